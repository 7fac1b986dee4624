// The serdes on their own: round trips, schema evolution through avsc's resolver, logical types, and each decode failure's reason.
import { compileJob } from '../compiler/compile.js';
import type { FetchedMessage } from '../kafka/client.js';
import { decodeMessage } from '../kafka/records.js';
import { KafkaSink, TransactionOutbox } from '../kafka/sink.js';
import { AvroDeserializer, AvroSerializer, avroType } from './avro.js';
import { JsonDeserializer, JsonSerializer } from './json.js';
import { JsonSchemaDeserializer, JsonSchemaSerializer } from './json-schema.js';
import { Formats, NoSchemaRegistryError } from './open.js';
import { SchemaRegistries, SchemaRegistryError, type RegisteredSchema, type SchemaRegistryClient, type SubjectVersion } from './registry-client.js';
import type { DecodeResult, Deserializer, Serializer } from './serde.js';
import { header } from './wire.js';

/** A registry held in memory: subjects with versions, schemas by global id, and the ids asked for. */
class TestingSchemaRegistry implements SchemaRegistryClient {
  readonly url = 'http://registry.test:8081';
  readonly #byId = new Map<number, RegisteredSchema>();
  readonly #subjects = new Map<string, number[]>();
  readonly asked: number[] = [];

  register(subject: string, schema: object, schemaType = 'AVRO'): number {
    const id = this.#byId.size + 1;
    this.#byId.set(id, { id, schemaType, schema: JSON.stringify(schema) });
    this.#subjects.set(subject, [...(this.#subjects.get(subject) ?? []), id]);
    return id;
  }

  byId(id: number): Promise<RegisteredSchema | undefined> {
    this.asked.push(id);
    return Promise.resolve(this.#byId.get(id));
  }

  version(subject: string, version?: number): Promise<SubjectVersion> {
    const ids = this.#subjects.get(subject) ?? [];
    const index = version === undefined ? ids.length - 1 : version - 1;
    const id = ids[index];
    if (id === undefined) return Promise.reject(new SchemaRegistryError(`no version ${version ?? 'latest'} of subject ${subject}`));
    return Promise.resolve({ ...this.#byId.get(id)!, subject, version: index + 1 });
  }
}

const transactionV1 = {
  type: 'record',
  name: 'Transaction',
  namespace: 'bank',
  fields: [
    { name: 'customer_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
/** v2 adds a field with a default (backward compatible) and a nested record. */
const transactionV2 = {
  ...transactionV1,
  fields: [
    ...transactionV1.fields,
    { name: 'channel', type: 'string', default: 'web' },
    { name: 'merchant', type: ['null', { type: 'record', name: 'Merchant', fields: [{ name: 'id', type: 'string' }] }], default: null },
  ],
};
const ledger = {
  type: 'record',
  name: 'Ledger',
  fields: [
    { name: 'booked_on', type: { type: 'int', logicalType: 'date' } },
    { name: 'balance', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'fee', type: { type: 'fixed', name: 'Fee', size: 4, logicalType: 'decimal', precision: 6, scale: 3 } },
  ],
};
const transactionJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['customer_id', 'amount'],
  properties: { customer_id: { type: 'string' }, amount: { type: 'number' } },
};

const at = Date.parse('2025-12-05T10:23:15Z');

async function started<T extends Serializer>(serializer: T): Promise<T> {
  await serializer.start();
  return serializer;
}

async function decoded(deserializer: Deserializer, value: Buffer | string): Promise<DecodeResult> {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  await deserializer.prepare([bytes]);
  return deserializer.decode(bytes);
}

function encoded(serializer: Serializer, record: Record<string, unknown>): Buffer {
  const result = serializer.encode(record);
  if (!result.ok) throw new Error(result.reason);
  return Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value);
}

describe('json', () => {
  it('round-trips a record as plain JSON text', async () => {
    const record = { customer_id: 'c1', amount: 12.5 };
    const text = new JsonSerializer().encode(record);
    expect(text).toEqual({ ok: true, value: '{"customer_id":"c1","amount":12.5}' });
    expect(await decoded(new JsonDeserializer(), JSON.stringify(record))).toEqual({ ok: true, value: record });
  });
});

describe('avro in the Confluent wire format', () => {
  it('writes magic byte 0 and the subject version id, and reads the record back as a plain object', async () => {
    const registry = new TestingSchemaRegistry();
    const id = registry.register('transactions-value', transactionV1);
    const writer = await started(new AvroSerializer(registry, { subject: 'transactions-value' }));
    const bytes = encoded(writer, { customer_id: 'c1', amount: 120.5, timestamp: at });
    expect(bytes.subarray(0, 5)).toEqual(header(id));
    expect([...bytes.subarray(0, 5)]).toEqual([0, 0, 0, 0, id]);
    const read = await decoded(new AvroDeserializer(registry, { subject: 'transactions-value' }), bytes);
    expect(read).toEqual({ ok: true, value: { customer_id: 'c1', amount: 120.5, timestamp: at } });
    if (read.ok) expect(Object.getPrototypeOf(read.value)).toBe(Object.prototype);
    // A record past the writer's first 4 KiB of scratch space, then a small one after it: each value is its own.
    const big = encoded(writer, { customer_id: 'c'.repeat(10_000), amount: 1, timestamp: at });
    const small = encoded(writer, { customer_id: 'c2', amount: 2, timestamp: at });
    expect(await decoded(new AvroDeserializer(registry, { subject: 'transactions-value' }), big)).toEqual({
      ok: true,
      value: { customer_id: 'c'.repeat(10_000), amount: 1, timestamp: at },
    });
    expect(await decoded(new AvroDeserializer(registry, { subject: 'transactions-value' }), small)).toEqual({
      ok: true,
      value: { customer_id: 'c2', amount: 2, timestamp: at },
    });
    expect(bytes.subarray(0, 5)).toEqual(header(id));
  });

  it("reads a record written with an older schema as the reader's newer version: the new field takes its default", async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    const old = encoded(await started(new AvroSerializer(registry, { subject: 'transactions-value', version: 1 })), {
      customer_id: 'c1',
      amount: 3,
      timestamp: at,
    });
    registry.register('transactions-value', transactionV2);
    const reader = new AvroDeserializer(registry, { subject: 'transactions-value' });
    expect(await decoded(reader, old)).toEqual({ ok: true, value: { customer_id: 'c1', amount: 3, timestamp: at, channel: 'web', merchant: null } });
  });

  it("reads a record written with a newer schema as the reader's older version: unknown fields are dropped, nested records are plain", async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    registry.register('transactions-value', transactionV2);
    const newer = encoded(await started(new AvroSerializer(registry, { subject: 'transactions-value' })), {
      customer_id: 'c2',
      amount: 4,
      timestamp: '2025-12-05T10:23:15Z',
      channel: 'pos',
      merchant: { id: 'm9' },
    });
    expect(await decoded(new AvroDeserializer(registry, { subject: 'transactions-value', version: 1 }), newer)).toEqual({
      ok: true,
      value: { customer_id: 'c2', amount: 4, timestamp: at },
    });
    const latest = await decoded(new AvroDeserializer(registry, { subject: 'transactions-value' }), newer);
    expect(latest).toEqual({ ok: true, value: { customer_id: 'c2', amount: 4, timestamp: at, channel: 'pos', merchant: { id: 'm9' } } });
    if (latest.ok) expect(Object.getPrototypeOf(latest.value.merchant)).toBe(Object.prototype);
  });

  it('maps date to an ISO date string and decimal to a string holding the exact value', async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('ledger-value', ledger);
    const writer = await started(new AvroSerializer(registry, { subject: 'ledger-value' }));
    const reader = new AvroDeserializer(registry, { subject: 'ledger-value' });
    // 9,999,999,999.99 is past a double's exact cents; the string keeps every digit.
    expect(await decoded(reader, encoded(writer, { booked_on: '2025-12-05', balance: '9999999999.99', fee: '-0.125' }))).toEqual({
      ok: true,
      value: { booked_on: '2025-12-05', balance: '9999999999.99', fee: '-0.125' },
    });
    // A number (an aggregate's sum) is rounded to the scale; an ISO time gives its date.
    expect(await decoded(reader, encoded(writer, { booked_on: '2025-12-05T23:59:59Z', balance: 0.1 + 0.2, fee: 1 }))).toEqual({
      ok: true,
      value: { booked_on: '2025-12-05', balance: '0.30', fee: '1.000' },
    });
  });

  it('refuses a result the schema cannot hold, naming the field', async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    registry.register('ledger-value', ledger);
    const writer = await started(new AvroSerializer(registry, { subject: 'transactions-value' }));
    expect(writer.encode({ customer_id: 'c1', amount: 'a lot', timestamp: at })).toEqual({
      ok: false,
      reason: 'the result does not fit subject transactions-value version 1: field amount is "a lot", which is not a double',
    });
    expect(writer.encode({ customer_id: 'c1', timestamp: at })).toEqual({
      ok: false,
      reason: 'the result does not fit subject transactions-value version 1: field amount is missing (it is a double without a default)',
    });
    const ledgerWriter = await started(new AvroSerializer(registry, { subject: 'ledger-value' }));
    const tooPrecise = ledgerWriter.encode({ booked_on: '2025-12-05', balance: '1.005', fee: '0' });
    expect(tooPrecise).toEqual({
      ok: false,
      reason: 'the result does not fit subject ledger-value version 1: field balance is "1.005", which is not a decimal',
    });
  });

  describe('a value that cannot be decoded gets a reason', () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    const other = registry.register('customers-value', { type: 'record', name: 'Customer', fields: [{ name: 'name', type: 'int' }] });
    const json = registry.register('orders-value', transactionJsonSchema, 'JSON');
    let good: Buffer;
    beforeAll(async () => {
      good = encoded(await started(new AvroSerializer(registry, { subject: 'transactions-value' })), { customer_id: 'c1', amount: 1, timestamp: at });
    });

    it.each<[string, () => Buffer, RegExp]>([
      [
        'an unknown schema id',
        () => Buffer.concat([header(999), good.subarray(5)]),
        /^schema id 999 is not in the schema registry at http:\/\/registry.test:8081/,
      ],
      ['a bad magic byte', () => Buffer.concat([Buffer.from([1]), good.subarray(1)]), /starts with byte 1, not magic byte 0 of the Confluent wire format/],
      ['plain JSON', () => Buffer.from('{"customer_id":"c1"}'), /starts with byte 123, not magic byte 0.*plain JSON, so the source's format should be json/],
      ['a value shorter than the header', () => good.subarray(0, 3), /3 bytes, too short for the Confluent wire format's 5-byte header/],
      ['a truncated body', () => good.subarray(0, good.length - 2), /cannot be read: it ends before the record does \(truncated\)/],
      [
        'an incompatible writer schema',
        () => Buffer.concat([header(other), Buffer.from([2])]),
        new RegExp(`written with schema id ${other} cannot be read as subject transactions-value version 1 \\(the schemas are not compatible`),
      ],
      ['a JSON schema id', () => Buffer.concat([header(json), Buffer.from('{}')]), new RegExp(`schema id ${json} is a JSON schema, not Avro`)],
    ])('%s', async (_what, value, reason) => {
      const result = await decoded(new AvroDeserializer(registry, { subject: 'transactions-value' }), value());
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    });

    it('in a Kafka message: the dead letter names the message, and a tombstone is refused', async () => {
      const deserializer = new AvroDeserializer(registry, { subject: 'transactions-value' });
      const unknown = Buffer.concat([header(999), good.subarray(5)]);
      await deserializer.prepare([unknown, null]);
      const message: FetchedMessage = { topic: 'transactions', partition: 1, offset: 7, key: null, value: unknown, headers: {}, rawHeaders: {}, timestamp: at };
      const rejected = decodeMessage(message, deserializer);
      expect(rejected.ok).toBe(false);
      if (!rejected.ok) {
        expect(rejected.rejected.reason).toMatch(/^transactions partition 1 offset 7: schema id 999 is not in the schema registry/);
        expect(rejected.rejected.raw).toBe(unknown);
      }
      const tombstone = decodeMessage({ ...message, value: null }, deserializer);
      expect(!tombstone.ok && tombstone.rejected.reason).toMatch(/has no value \(a tombstone\); an Avro record was expected/);
    });
  });

  it('asks again for an id the registry did not hold, once 30 s have passed, not for every record', async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    let now = 0;
    const reader = new AvroDeserializer(registry, { subject: 'transactions-value' }, () => now);
    const json = new JsonSchemaDeserializer(registry, () => now);
    // A replica that lags: records name id 2 before the registry asked holds it.
    const early = Buffer.concat([
      header(2),
      avroType(JSON.stringify(transactionV2)).toBuffer({ customer_id: 'c1', amount: 1, timestamp: at, channel: 'pos', merchant: null }),
    ]);
    const earlyJson = Buffer.concat([header(3), Buffer.from('{"customer_id":"c1"}')]);
    expect((await decoded(reader, early)).ok).toBe(false);
    expect((await decoded(json, earlyJson)).ok).toBe(false);
    registry.register('transactions-value', transactionV2);
    registry.register('orders-value', transactionJsonSchema, 'JSON');
    now = 29_999;
    expect(reader.prepare([early, early])).toBeUndefined();
    expect(json.prepare([earlyJson])).toBeUndefined();
    expect(registry.asked).toEqual([2, 3]);
    now = 30_000;
    expect(await decoded(reader, early)).toEqual({ ok: true, value: { customer_id: 'c1', amount: 1, timestamp: at } });
    expect(await decoded(json, earlyJson)).toEqual({ ok: true, value: { customer_id: 'c1' } });
    expect(registry.asked).toEqual([2, 3, 2, 3]);
  });

  it('asks the registry for each writer schema id once', async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('transactions-value', transactionV1);
    registry.register('transactions-value', transactionV2);
    const older = encoded(await started(new AvroSerializer(registry, { subject: 'transactions-value', version: 1 })), {
      customer_id: 'c1',
      amount: 1,
      timestamp: at,
    });
    const reader = new AvroDeserializer(registry, { subject: 'transactions-value' });
    await decoded(reader, older);
    expect(reader.prepare([older, older])).toBeUndefined();
    expect(registry.asked).toEqual([1]);
  });
});

describe('json-schema in the Confluent wire format', () => {
  it('validates on write, frames the JSON, and reads it back', async () => {
    const registry = new TestingSchemaRegistry();
    const id = registry.register('orders-value', transactionJsonSchema, 'JSON');
    const writer = await started(new JsonSchemaSerializer(registry, { subject: 'orders-value' }));
    const bytes = encoded(writer, { customer_id: 'c1', amount: 2 });
    expect(bytes).toEqual(Buffer.concat([header(id), Buffer.from('{"customer_id":"c1","amount":2}')]));
    expect(await decoded(new JsonSchemaDeserializer(registry), bytes)).toEqual({ ok: true, value: { customer_id: 'c1', amount: 2 } });
    expect(writer.encode({ customer_id: 'c1', amount: 'two' })).toEqual({
      ok: false,
      reason: 'the result does not fit subject orders-value version 1: field amount ("two") must be number',
    });
    expect(writer.encode({ customer_id: 'c1' })).toEqual({
      ok: false,
      reason: "the result does not fit subject orders-value version 1: the result must have required property 'amount'",
    });
  });

  it('refuses an unknown schema id, an Avro id and a body that is not a JSON object', async () => {
    const registry = new TestingSchemaRegistry();
    const avro = registry.register('transactions-value', transactionV1);
    const id = registry.register('orders-value', transactionJsonSchema, 'JSON');
    const reader = new JsonSchemaDeserializer(registry);
    const reasons = await Promise.all(
      [Buffer.concat([header(42), Buffer.from('{}')]), Buffer.concat([header(avro), Buffer.from('{}')]), Buffer.concat([header(id), Buffer.from('[1]')])].map(
        async (value) => {
          const result = await decoded(reader, value);
          return result.ok ? 'decoded' : result.reason;
        },
      ),
    );
    expect(reasons).toEqual([
      expect.stringMatching(/^schema id 42 is not in the schema registry/),
      `schema id ${avro} is a AVRO schema, not a JSON schema: the producer wrote with another format than the source's json-schema`,
      'the value is an array, not a JSON object',
    ]);
  });
});

describe('the Kafka sink with a serializer', () => {
  it('puts the Avro value in the outbox, and dead-letters a result the schema refuses', async () => {
    const registry = new TestingSchemaRegistry();
    registry.register('features-value', {
      type: 'record',
      name: 'Features',
      fields: [
        { name: 'customer_id', type: 'string' },
        { name: 'txn_count', type: 'long' },
      ],
    });
    const outbox = new TransactionOutbox();
    const formats = new Formats({ registries: new SchemaRegistries(() => registry), defaultUrl: registry.url });
    const sink = new KafkaSink({
      topic: 'features',
      key: '{customer_id}',
      outbox,
      serializer: formats.serializer({ name: 'avro', subject: 'features-value' }, 'sink features'),
    });
    await sink.start();
    expect(sink.write({ value: { customer_id: 'c1', txn_count: 3 }, timestamp: 1 })).toBeUndefined();
    expect(sink.write({ value: { customer_id: 'c1', txn_count: 'three' }, timestamp: 1 })?.reason).toBe(
      'Kafka sink features: the result does not fit subject features-value version 1: field txn_count is "three", which is not a long',
    );
    const [message] = outbox.take();
    expect(message?.key).toBe('c1');
    expect(await decoded(formats.deserializer({ name: 'avro', subject: 'features-value' }, 'spec.sources[0]'), message!.value as Buffer)).toEqual({
      ok: true,
      value: { customer_id: 'c1', txn_count: 3 },
    });
  });

  it('refuses to open an Avro format without a registry, saying where to name one', () => {
    const formats = new Formats({ defaultUrl: undefined });
    expect(() => formats.serializer({ name: 'avro', subject: 'features-value' }, 'sink features')).toThrow(NoSchemaRegistryError);
    expect(() => formats.serializer({ name: 'avro', subject: 'features-value' }, 'sink features')).toThrow(
      /set spec.connections.schemaRegistry.url, sink features.schema.registryUrl, or SLUICE_SCHEMA_REGISTRY_URL/,
    );
  });
});

describe('the compiler', () => {
  const manifest = (source: Record<string, unknown>, sink: Record<string, unknown> = { topic: 'features' }, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud' },
    spec: {
      sources: [{ name: 'transactions', ...source }],
      pipeline: [{ filter: 'amount > 100.0' }],
      sinks: [{ name: 'out', kafka: sink }],
      ...extra,
    },
  });

  it('takes avro and json-schema sources and sinks, the subject defaulting to <topic>-value and the registry to connections', () => {
    const result = compileJob(
      manifest(
        { kafka: { topic: 'transactions' }, format: 'avro', schema: { subject: 'bank.transactions', version: 3 } },
        { topic: 'features', format: 'json-schema' },
        { connections: { schemaRegistry: { url: 'http://registry:8081' } } },
      ),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.job.source.kind === 'kafka' && result.job.source.format).toEqual({
      name: 'avro',
      subject: 'bank.transactions',
      version: 3,
      registryUrl: 'http://registry:8081',
    });
    expect(result.job.sinks[0]!.kind === 'kafka' && result.job.sinks[0]!.format).toEqual({
      name: 'json-schema',
      subject: 'features-value',
      registryUrl: 'http://registry:8081',
    });
  });

  it("keeps a source's own registryUrl, and gives plain JSON no format", () => {
    const result = compileJob(
      manifest(
        { kafka: { topic: 'transactions' }, format: 'avro', schema: { subject: 's', registryUrl: 'http://mine:8081' } },
        { topic: 'features' },
        { connections: { schemaRegistry: { url: 'http://registry:8081' } } },
      ),
    );
    expect(result.ok && result.job.source.kind === 'kafka' && result.job.source.format?.name === 'avro' && result.job.source.format.registryUrl).toBe(
      'http://mine:8081',
    );
    expect(result.ok && result.job.sinks[0]!.kind === 'kafka' && result.job.sinks[0]!.format).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string, RegExp]>([
    [
      'an unknown format',
      { kafka: { topic: 't' }, format: 'protobuf' },
      { topic: 'f' },
      'spec.sources[0].format',
      /"protobuf" is not a format; use one of json, json-schema, avro/,
    ],
    [
      'avro on a file source',
      { file: { path: 'in.jsonl' }, format: 'avro' },
      { topic: 'f' },
      'spec.sources[0].format',
      /a file source reads JSON; "avro" is read from Kafka only/,
    ],
    [
      'a version 0',
      { kafka: { topic: 't' }, format: 'avro', schema: { subject: 's', version: 0 } },
      { topic: 'f' },
      'spec.sources[0].schema.version',
      /is not a version/,
    ],
    ['a sink format typo', { kafka: { topic: 't' } }, { topic: 'f', format: 'avr' }, 'spec.sinks[0].kafka.format', /"avr" is not a format/],
  ])('refuses %s, naming the field', (_what, source, sink, path, message) => {
    const result = compileJob(manifest(source, sink));
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems.filter((problem) => problem.path === path).map((problem) => problem.message)).toEqual([expect.stringMatching(message) as string]);
  });
});
