// Measures the codecs a stored state value could use (JSON, v8.serialize) on window-sized values, on this machine.
import { deserialize, serialize } from 'node:v8';

const VALUES = 10_000;
const REPEAT = 20;
const ROUNDS = 3;

/** Shaped like a window operator's state for one key: a window with named accumulators. */
const values = Array.from({ length: VALUES }, (_, i) => ({
  windows: [{ start: 1_700_000_000_000 + i, end: 1_700_000_300_000 + i, acc: { txn_count: i % 17, txn_sum: i * 1.25, first: 'abc' } }],
  lastSeen: 1_700_000_000_000 + i,
}));

interface Codec {
  name: string;
  encode(value: unknown): Buffer;
  decode(bytes: Buffer): unknown;
}

const codecs: Codec[] = [
  { name: 'JSON', encode: (v) => Buffer.from(JSON.stringify(v), 'utf8'), decode: (b) => JSON.parse(b.toString('utf8')) as unknown },
  { name: 'v8.serialize', encode: (v) => serialize(v), decode: (b) => deserialize(b) as unknown },
];

function seconds(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

console.log(`${VALUES} values × ${REPEAT}, best of ${ROUNDS} rounds, node ${process.version}`);
for (const codec of codecs) {
  const encoded = values.map((v) => codec.encode(v));
  let encode = Infinity;
  let decode = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    encode = Math.min(
      encode,
      seconds(() => {
        for (let r = 0; r < REPEAT; r++) for (const v of values) codec.encode(v);
      }),
    );
    decode = Math.min(
      decode,
      seconds(() => {
        for (let r = 0; r < REPEAT; r++) for (const b of encoded) codec.decode(b);
      }),
    );
  }
  const bytes = encoded.reduce((sum, b) => sum + b.length, 0) / VALUES;
  const rate = (s: number): string => Math.round((VALUES * REPEAT) / s).toLocaleString('en-US');
  console.log(`${codec.name.padEnd(14)} encode ${rate(encode).padStart(10)}/s  decode ${rate(decode).padStart(10)}/s  ${bytes.toFixed(0)} bytes`);
}
