// examples/fraud-velocity/job-avro.yaml on the real Kafka with a sluice-registry: Avro transactions of two schema versions in, Avro features out, the JSON job's windows; an unknown schema id is dead-lettered with the reason; the same job over json-schema; a registry that does not answer.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRegistry, KafkaStore } from '@sluice/registry';
import { DEAD_LETTER_HEADERS, END_OF_INPUT_HEADER } from '@sluice/runtime';
import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import { readEndpoints } from '../env/src/endpoints.js';
// The serdes are not part of the runtime's public surface; the test writes and reads Avro as the engine does.
import {
  AvroDeserializer,
  AvroSerializer,
  HttpSchemaRegistryClient,
  JsonSchemaDeserializer,
  JsonSchemaSerializer,
  wireHeader,
  type Deserializer,
} from '../../runtime-image/src/serde/index.js';
import { createTopics, kafka, readCommitted, removeScratchDirs, scratchDir, startRuntime, uniqueName, writeJobFile } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const example = (file: string): string => readFileSync(new URL(`../../examples/fraud-velocity/${file}`, import.meta.url), 'utf8');
type Manifest = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const manifests = parseAllDocuments(example('job-avro.yaml')).map((document) => document.toJSON() as Manifest);

let registry: FastifyInstance;
let registryUrl: string;

beforeAll(async () => {
  registry = createRegistry({ store: new KafkaStore({ brokers, topic: uniqueName('_schemas') }) });
  await registry.listen({ port: 0, host: '127.0.0.1' });
  registryUrl = `http://127.0.0.1:${(registry.server.address() as AddressInfo).port}`;
  // The example's SchemaSubjects, registered as the controller's SchemaSubject reconciler would.
  for (const subject of manifests.filter((manifest) => manifest.kind === 'SchemaSubject'))
    await register(subject.spec.subject as string, subject.spec.schema as string);
}, 60_000);

async function registerJson(subject: string, schema: string): Promise<void> {
  const response = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema }),
  });
  expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: expect.stringMatching(/"id"/) as unknown });
}

/** Registers an Avro schema under the subject (the registry checks it against the subject's compatibility, BACKWARD by default). */
async function register(subject: string, schema: string): Promise<void> {
  const response = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'AVRO', schema }),
  });
  expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: expect.stringMatching(/"id"/) as unknown });
}

afterAll(async () => {
  await registry?.close();
  removeScratchDirs();
});

/** The example's StreamJob on fresh topics and this test's registry. */
function avroJob(name: string): { spec: Record<string, unknown>; input: string; output: string; deadLetter: string } {
  const job = structuredClone(manifests.find((manifest) => manifest.kind === 'StreamJob')!);
  const spec = job.spec as {
    sources: { kafka: { topic: string } }[];
    sinks: { kafka: { topic: string } }[];
    lateOutput: { topic: string };
    deadLetter: { topic: string };
    connections: unknown;
  };
  const input = `${name}-transactions`;
  spec.sources[0]!.kafka.topic = input;
  spec.sinks[0]!.kafka.topic = `${name}-features`;
  spec.lateOutput.topic = `${name}-late`;
  spec.deadLetter.topic = `${name}-dead-letter`;
  spec.connections = { schemaRegistry: { url: registryUrl } };
  return { spec, input, output: spec.sinks[0]!.kafka.topic, deadLetter: spec.deadLetter.topic };
}

async function decodeAll(deserializer: Deserializer, values: Buffer[]): Promise<Record<string, unknown>[]> {
  await deserializer.prepare(values);
  return values.map((value) => {
    const decoded = deserializer.decode(value);
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.value;
  });
}

describe('the fraud-velocity example over Avro and JSON Schema on Kafka', () => {
  it('gives the JSON job’s windows as Avro features from transactions of two schema versions, and dead-letters a record whose schema id the registry does not hold', async () => {
    const name = uniqueName('fraud-avro');
    const { spec, input, output, deadLetter } = avroJob(name);
    await createTopics(brokers, [input], 1);
    const client = new HttpSchemaRegistryClient(registryUrl);
    const v1 = new AvroSerializer(client, { subject: 'transactions-avro-value', version: 1 });
    await v1.start();
    // The schema evolves mid-topic: version 2 adds channel with a default, and the second half of the sample is written with it.
    const schemaV1 = JSON.parse(manifests.find((manifest) => manifest.spec.subject === 'transactions-avro-value')!.spec.schema as string) as {
      fields: unknown[];
    };
    await register(
      'transactions-avro-value',
      JSON.stringify({ ...schemaV1, fields: [...schemaV1.fields, { name: 'channel', type: 'string', default: 'web' }] }),
    );
    const v2 = new AvroSerializer(client, { subject: 'transactions-avro-value', version: 2 });
    await v2.start();
    // The sample as producers with the Avro serializer write it: the ISO timestamps become timestamp-millis.
    const sample = example('sample.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const values = sample.map((transaction, i) => {
      const encoded = i < sample.length / 2 ? v1.encode(transaction) : v2.encode({ ...transaction, channel: 'pos' });
      if (!encoded.ok) throw new Error(encoded.reason);
      return encoded.value as Buffer;
    });
    expect(new Set(values.map((value) => value.readUInt32BE(1))).size).toBe(2);
    const unknownId = Buffer.concat([wireHeader(987_654), values[0]!.subarray(5)]);
    const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [...values.slice(0, 3), unknownId, ...values.slice(3)].map((value) => ({ partition: 0, value })),
    });
    await producer.send({ topic: input, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: '1' } }] });
    await producer.disconnect();

    const runtime = startRuntime({
      SLUICE_JOB_FILE: writeJobFile(name, spec),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
    });
    await runtime.exitsWith(0);

    const features = await readCommitted(brokers, output);
    expect(features.every((message) => message.value![0] === 0)).toBe(true);
    const results = await decodeAll(
      new AvroDeserializer(client, { subject: 'fraud-features-avro-value' }),
      features.map((message) => message.value!),
    );
    const expected = example('expected.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { window_start: string; window_end: string })
      .map((result) => ({ ...result, window_start: Date.parse(result.window_start), window_end: Date.parse(result.window_end) }));
    // Results keep their order per customer (the key); the customers' results may interleave otherwise.
    const byCustomer = (list: readonly Record<string, unknown>[]): Map<unknown, unknown[]> => {
      const grouped = new Map<unknown, unknown[]>();
      for (const result of list) grouped.set(result.customer_id, [...(grouped.get(result.customer_id) ?? []), result]);
      return grouped;
    };
    expect(byCustomer(results)).toEqual(byCustomer(expected));

    const letters = await readCommitted(brokers, deadLetter);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value).toEqual(unknownId);
    expect(letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toBe(
      `${input} partition 0 offset 3: schema id 987654 is not in the schema registry at ${registryUrl}: the producer registered its schema in another registry, or the id was deleted`,
    );
  }, 180_000);

  it('runs the same job over json-schema: transactions checked against schema.yaml, features validated on write, the refused results dead-lettered', async () => {
    const name = uniqueName('fraud-json-schema');
    const { spec, input, output, deadLetter } = avroJob(name);
    const json = spec as { sources: Record<string, unknown>[]; sinks: { kafka: Record<string, unknown> }[] };
    // The JSON example's own subject (schema.yaml), and a features schema that caps txn_sum at 1000: C789's 1200 and 1041.99 are refused.
    const transactions = `${name}-transactions-value`;
    const features = `${name}-features-value`;
    const registered = parseAllDocuments(example('schema.yaml')).map((document) => document.toJSON() as Manifest)[0]!;
    await registerJson(transactions, registered.spec.schema as string);
    await registerJson(
      features,
      JSON.stringify({
        type: 'object',
        required: ['customer_id', 'window_start', 'txn_count', 'txn_sum'],
        properties: {
          customer_id: { type: 'string' },
          window_start: { type: 'string' },
          window_end: { type: 'string' },
          txn_count: { type: 'integer' },
          txn_sum: { type: 'number', maximum: 1000 },
        },
      }),
    );
    json.sources[0] = {
      ...json.sources[0],
      format: 'json-schema',
      schema: { subject: transactions },
      eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
    };
    json.sinks[0]!.kafka = { ...json.sinks[0]!.kafka, format: 'json-schema', schema: { subject: features } };
    await createTopics(brokers, [input], 1);
    const client = new HttpSchemaRegistryClient(registryUrl);
    const writer = new JsonSchemaSerializer(client, { subject: transactions });
    await writer.start();
    const values = example('sample.jsonl')
      .trim()
      .split('\n')
      .map((line) => {
        const encoded = writer.encode(JSON.parse(line) as Record<string, unknown>);
        if (!encoded.ok) throw new Error(encoded.reason);
        return encoded.value as Buffer;
      });
    const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: input, messages: values.map((value) => ({ partition: 0, value })) });
    await producer.send({ topic: input, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: '1' } }] });
    await producer.disconnect();

    const runtime = startRuntime({
      SLUICE_JOB_FILE: writeJobFile(name, spec),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
    });
    await runtime.exitsWith(0);

    const written = await readCommitted(brokers, output);
    const results = await decodeAll(
      new JsonSchemaDeserializer(client),
      written.map((message) => message.value!),
    );
    const expected = example('expected.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { txn_sum: number });
    expect(results).toEqual(expected.filter((result) => result.txn_sum <= 1000));
    const letters = await readCommitted(brokers, deadLetter);
    expect(letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.reason])).toEqual(
      expected
        .filter((result) => result.txn_sum > 1000)
        .map((result) => `Kafka sink ${output}: the result does not fit subject ${features} version 1: field txn_sum (${result.txn_sum}) must be <= 1000`),
    );
  }, 180_000);

  it('fails, naming the registry, when the registry cannot be asked for a schema, rather than dead-letter good records', async () => {
    const name = uniqueName('fraud-avro-down');
    const { spec, input, deadLetter } = avroJob(name);
    // The sink writes JSON here, so that only the source needs the registry; nothing listens on port 1.
    const down = 'http://127.0.0.1:1';
    (spec as { connections: unknown }).connections = { schemaRegistry: { url: down } };
    (spec as { sinks: { kafka: Record<string, unknown> }[] }).sinks[0]!.kafka = { topic: `${name}-features`, key: '{customer_id}' };
    await createTopics(brokers, [input, deadLetter], 1);
    const writer = new AvroSerializer(new HttpSchemaRegistryClient(registryUrl), { subject: 'transactions-avro-value' });
    await writer.start();
    const encoded = writer.encode({ transaction_id: 't1', customer_id: 'C1', amount: 1, timestamp: Date.parse('2025-12-05T10:20:00Z') });
    const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: input, messages: [{ partition: 0, value: encoded.ok ? encoded.value : null }] });
    await producer.disconnect();

    const runtime = startRuntime({
      SLUICE_JOB_FILE: writeJobFile(name, spec),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
    });
    await runtime.exitsWith(1);
    const failed = runtime.events.filter((event) => event.event === 'failed').at(-1);
    expect(failed?.error).toEqual(
      expect.stringContaining(`the schema registry at ${down} did not answer GET /subjects/transactions-avro-value/versions/latest`),
    );
    expect(await readCommitted(brokers, deadLetter)).toEqual([]);
  }, 180_000);
});
