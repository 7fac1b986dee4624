// Records/s decoded and encoded per format, json vs avro vs json-schema, on the same transactions in the same run (`npm run bench -- formats`, or `npx tsx bench/src/formats.ts`).
import type { FetchedMessage } from '../../runtime-image/src/kafka/client.js';
import { decodeMessage } from '../../runtime-image/src/kafka/records.js';
import {
  AvroDeserializer,
  AvroSerializer,
  JsonDeserializer,
  JsonSchemaDeserializer,
  JsonSchemaSerializer,
  JsonSerializer,
  type Deserializer,
  type RegisteredSchema,
  type SchemaRegistryClient,
  type Serializer,
  type SubjectVersion,
} from '../../runtime-image/src/serde/index.js';

const RECORDS = 100_000;
const ROUNDS = 7;

const transactionAvro = {
  type: 'record',
  name: 'Transaction',
  fields: [
    { name: 'transaction_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'merchant_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
/** The reader's newer version: a field added with a default, so records of the first version go through avsc's resolver. */
const transactionAvroV2 = { ...transactionAvro, fields: [...transactionAvro.fields, { name: 'channel', type: 'string', default: 'web' }] };
const transactionJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['transaction_id', 'customer_id', 'amount', 'timestamp'],
  properties: {
    transaction_id: { type: 'string' },
    customer_id: { type: 'string' },
    merchant_id: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    currency: { type: 'string', minLength: 3, maxLength: 3 },
    timestamp: { type: 'string' },
  },
};

/** The schemas in memory: the bench measures the serdes, not the registry (a real one is asked once per id either way). */
class InMemoryRegistry implements SchemaRegistryClient {
  readonly url = 'memory:';
  readonly #schemas: (RegisteredSchema & { subject: string })[] = [];

  register(subject: string, schema: object, schemaType: string): void {
    this.#schemas.push({ id: this.#schemas.length + 1, subject, schemaType, schema: JSON.stringify(schema) });
  }

  byId(id: number): Promise<RegisteredSchema | undefined> {
    return Promise.resolve(this.#schemas[id - 1]);
  }

  version(subject: string, version?: number): Promise<SubjectVersion> {
    const versions = this.#schemas.filter((schema) => schema.subject === subject);
    const found = versions[(version ?? versions.length) - 1]!;
    return Promise.resolve({ ...found, version: versions.indexOf(found) + 1 });
  }
}

/** Transactions as the generator's workload writes them: 5,000 customers, 500 merchants, one a second. */
function transactions(): Record<string, unknown>[] {
  const start = Date.parse('2025-12-05T10:00:00Z');
  return Array.from({ length: RECORDS }, (_, i) => ({
    transaction_id: `tx-${i.toString().padStart(8, '0')}`,
    customer_id: `C${(i * 7919) % 5000}`,
    merchant_id: `M${(i * 104_729) % 500}`,
    amount: Math.round(((i * 37) % 100_000) + 1) / 100,
    currency: 'NZD',
    timestamp: new Date(start + i * 1000).toISOString(),
  }));
}

interface Case {
  name: string;
  serializer: Serializer;
  deserializer: Deserializer;
  /** The records as this format's reader hands them to the engine, and so as a writer of it takes them. */
  records: Record<string, unknown>[];
}

interface Measured {
  name: string;
  bytesPerRecord: number;
  decodePerSecond: number;
  /** Absent where only decoding is the point (records of an older writer). */
  encodePerSecond?: number;
}

/** One pass over every record, timed in ns; the checks after it keep a failing format from counting as fast. */
type Pass = () => number;

function timed(run: () => number, what: string): Pass {
  return () => {
    const started = process.hrtime.bigint();
    const failed = run();
    const elapsed = Number(process.hrtime.bigint() - started);
    if (failed > 0) throw new Error(`${what}: ${failed} records failed`);
    return elapsed;
  };
}

interface Prepared {
  name: string;
  bytesPerRecord: number;
  decode: Pass;
  encode?: Pass;
}

/** `written`: values written elsewhere (by an older writer), decoded only. */
async function prepare({ name, serializer, deserializer, records }: Case, written?: Buffer[]): Promise<Prepared> {
  await serializer.start();
  const values = written ?? records.map((record) => asBuffer(serializer.encode(record)));
  // As the Kafka source decodes: each message through decodeMessage, after the batch's schemas were fetched.
  const messages: FetchedMessage[] = values.map((value, offset) => ({
    topic: 'transactions',
    partition: 0,
    offset,
    key: null,
    value,
    headers: {},
    rawHeaders: {},
    timestamp: 0,
  }));
  await deserializer.prepare(values);
  const decode = timed(() => messages.reduce((failed, message) => failed + (decodeMessage(message, deserializer).ok ? 0 : 1), 0), `${name} decode`);
  const bytesPerRecord = values.reduce((sum, value) => sum + value.length, 0) / values.length;
  if (written !== undefined) return { name, bytesPerRecord, decode };
  const encode = timed(() => records.reduce((failed, record) => failed + (serializer.encode(record).ok ? 0 : 1), 0), `${name} encode`);
  return { name, bytesPerRecord, decode, encode };
}

/**
 * The best pass of each format in records/s. The formats take turns round by round, so a burst of load on the shared
 * machine slows every format's round alike rather than one format's whole measurement; the first round warms up.
 */
function measure(prepared: readonly Prepared[]): Measured[] {
  const fastest = prepared.map(() => ({ decode: Number.POSITIVE_INFINITY, encode: Number.POSITIVE_INFINITY }));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [i, format] of prepared.entries()) {
      const decode = format.decode();
      const encode = format.encode?.() ?? Number.POSITIVE_INFINITY;
      if (round === 0) continue;
      fastest[i]!.decode = Math.min(fastest[i]!.decode, decode);
      fastest[i]!.encode = Math.min(fastest[i]!.encode, encode);
    }
  }
  const perSecond = (ns: number): number => Math.round((RECORDS * 1e9) / ns);
  return prepared.map(({ name, bytesPerRecord, encode }, i) => ({
    name,
    bytesPerRecord,
    decodePerSecond: perSecond(fastest[i]!.decode),
    ...(encode === undefined ? {} : { encodePerSecond: perSecond(fastest[i]!.encode) }),
  }));
}

function asBuffer(encoded: ReturnType<Serializer['encode']>): Buffer {
  if (!encoded.ok) throw new Error(encoded.reason);
  return typeof encoded.value === 'string' ? Buffer.from(encoded.value) : encoded.value;
}

export async function runFormatsBench(): Promise<Measured[]> {
  const registry = new InMemoryRegistry();
  registry.register('transactions-value', transactionAvro, 'AVRO');
  registry.register('transactions-json-value', transactionJsonSchema, 'JSON');
  const json = transactions();
  const avro = json.map((record) => ({ ...record, timestamp: Date.parse(record.timestamp as string) }));
  // Written with version 1, read as version 2 (registered next): every record goes through the resolver.
  const older = new AvroSerializer(registry, { subject: 'transactions-value', version: 1 });
  await older.start();
  const writtenByV1 = avro.map((record) => asBuffer(older.encode(record)));
  registry.register('transactions-value', transactionAvroV2, 'AVRO');
  const latest = { subject: 'transactions-value' };
  const cases: [Case, Buffer[]?][] = [
    [{ name: 'json', serializer: new JsonSerializer(), deserializer: new JsonDeserializer(), records: json }],
    [
      {
        name: 'avro',
        serializer: new AvroSerializer(registry, latest),
        deserializer: new AvroDeserializer(registry, latest),
        records: avro.map((record) => ({ ...record, channel: 'pos' })),
      },
    ],
    [
      {
        name: 'json-schema',
        serializer: new JsonSchemaSerializer(registry, { subject: 'transactions-json-value' }),
        deserializer: new JsonSchemaDeserializer(registry),
        records: json,
      },
    ],
    [{ name: 'avro, older writer', serializer: older, deserializer: new AvroDeserializer(registry, latest), records: avro }, writtenByV1],
  ];
  const prepared: Prepared[] = [];
  for (const [format, written] of cases) prepared.push(await prepare(format, written));
  return measure(prepared);
}

export function formatsTable(results: readonly Measured[]): string {
  const rows = results.map(
    (r) =>
      `${r.name.padEnd(20)} ${r.bytesPerRecord.toFixed(0).padStart(6)} ${r.decodePerSecond.toLocaleString('en-US').padStart(12)} ${(r.encodePerSecond?.toLocaleString('en-US') ?? '-').padStart(12)}`,
  );
  return [
    `${RECORDS.toLocaleString('en-US')} transactions, best of ${ROUNDS} rounds, node ${process.version}`,
    `${'format'.padEnd(20)} ${'B/rec'.padStart(6)} ${'decode/s'.padStart(12)} ${'encode/s'.padStart(12)}`,
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${formatsTable(await runFormatsBench())}\n`);
