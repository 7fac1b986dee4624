// Nanoseconds per event-time parse: the strict RFC 3339 reader against Date.parse, on the same strings in the same run (`npx tsx bench/src/event-time-parse.ts`).
import { parseIsoDateTime } from '../../runtime-image/src/time/iso8601.js';

const SAMPLES = 100_000;
const ROUNDS = 5;

/** Event times as producers write them: milliseconds and seconds, Z and offsets, spread over two years. */
function eventTimes(): string[] {
  const start = Date.parse('2025-01-01T00:00:00Z');
  const times: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const iso = new Date(start + i * 631_133 + (i % 1000)).toISOString();
    const form = i % 4;
    if (form === 0) times.push(iso);
    else if (form === 1) times.push(iso.slice(0, 19) + 'Z');
    else if (form === 2) times.push(iso.slice(0, 23) + '+00:00');
    else times.push(iso.slice(0, 19) + '.123456-05:30');
  }
  // Through JSON, as records arrive: flat strings, not the concatenations built above.
  return JSON.parse(JSON.stringify(times)) as string[];
}

/** The best of ROUNDS passes over every sample, in ns per call; the sum keeps the calls from being optimised away. */
function measure(parse: (text: string) => number, times: readonly string[]): { nsPerParse: number; checksum: number } {
  let best = Number.POSITIVE_INFINITY;
  let checksum = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (const time of times) checksum += parse(time);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / times.length);
  }
  return { nsPerParse: best, checksum };
}

const times = eventTimes();
const strict = measure(parseIsoDateTime, times);
const builtin = measure(Date.parse, times);
if (strict.checksum !== builtin.checksum) throw new Error(`the two parsers disagree on the samples (checksums ${strict.checksum} and ${builtin.checksum})`);
process.stdout.write(
  `${SAMPLES.toLocaleString('en-US')} event times, best of ${ROUNDS} rounds, node ${process.version}\n` +
    `parseIsoDateTime  ${strict.nsPerParse.toFixed(1)} ns/parse (${Math.round(1e9 / strict.nsPerParse).toLocaleString('en-US')} parses/s)\n` +
    `Date.parse        ${builtin.nsPerParse.toFixed(1)} ns/parse (${Math.round(1e9 / builtin.nsPerParse).toLocaleString('en-US')} parses/s)\n`,
);
