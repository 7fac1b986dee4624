// Two Confluent clients we did not write, against the registry on a real port: register, encode, decode through the wire format (magic byte 0, 4-byte id).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AvroDeserializer,
  AvroSerializer,
  Compatibility,
  JsonDeserializer,
  JsonSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import { SchemaRegistry as KafkajsSchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { FastifyInstance } from 'fastify';
import { createRegistry } from './http/app.js';
import { FileStore } from './store/file.js';

const payment = {
  type: 'record',
  name: 'Payment',
  namespace: 'bank',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
  ],
};
const paymentWithCurrency = { ...payment, fields: [...payment.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const paymentWithoutDefault = { ...payment, fields: [...payment.fields, { name: 'customer', type: 'string' }] };

let directory: string;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-clients-'));
  app = createRegistry({ store: new FileStore(directory) });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  rmSync(directory, { recursive: true, force: true });
});

const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}`;

function wireId(buffer: Buffer): number {
  expect(buffer[0]).toBe(0);
  return buffer.readInt32BE(1);
}

describe('@kafkajs/confluent-schema-registry', () => {
  it('registers an Avro schema, encodes with the wire format and decodes it back', async () => {
    const client = new KafkajsSchemaRegistry({ host: url });
    const subject = unique('payments-value');
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(payment) }, { subject });
    const encoded = await client.encode(id, { id: 'p-1', amount: 12.5 });
    expect(wireId(encoded)).toBe(id);
    expect(await new KafkajsSchemaRegistry({ host: url }).decode(encoded)).toEqual({ id: 'p-1', amount: 12.5 });
    expect(await client.getLatestSchemaId(subject)).toBe(id);
    expect(await client.getRegistryId(subject, 1)).toBe(id);
  });

  it('evolves a subject compatibly and is refused an incompatible schema with the reason', async () => {
    const client = new KafkajsSchemaRegistry({ host: url });
    const subject = unique('payments-value');
    const first = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(payment) }, { subject });
    const second = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(paymentWithCurrency) }, { subject });
    expect(second.id).not.toBe(first.id);
    const old = await client.encode(first.id, { id: 'p-1', amount: 1 });
    expect(await client.decode(old)).toEqual({ id: 'p-1', amount: 1 });
    await expect(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(paymentWithoutDefault) }, { subject })).rejects.toThrow(/customer/);
  });

  it('registers and round-trips a JSON Schema', async () => {
    const client = new KafkajsSchemaRegistry({ host: url });
    const schema = JSON.stringify({ type: 'object', properties: { id: { type: 'string' }, amount: { type: 'number' } }, required: ['id'] });
    const { id } = await client.register({ type: SchemaType.JSON, schema }, { subject: unique('orders-value') });
    const encoded = await client.encode(id, { id: 'o-1', amount: 3 });
    expect(wireId(encoded)).toBe(id);
    expect(await new KafkajsSchemaRegistry({ host: url }).decode(encoded)).toEqual({ id: 'o-1', amount: 3 });
  });
});

describe('@confluentinc/schemaregistry', () => {
  it('registers an Avro schema, serializes with the wire format and deserializes it back', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const topic = unique('payments');
    const id = await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(payment) });
    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const encoded = await serializer.serialize(topic, { id: 'p-2', amount: 7.25 });
    expect(wireId(encoded)).toBe(id);
    const deserializer = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [url] }), SerdeType.VALUE, {});
    expect(await deserializer.deserialize(topic, encoded)).toEqual({ id: 'p-2', amount: 7.25 });
    expect((await client.getLatestSchemaMetadata(`${topic}-value`)).id).toBe(id);
    expect(await client.getId(`${topic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(payment) })).toBe(id);
  });

  it('auto-registers from the serializer and reads what the other client wrote', async () => {
    const topic = unique('payments');
    const kafkajs = new KafkajsSchemaRegistry({ host: url });
    const { id } = await kafkajs.register({ type: SchemaType.AVRO, schema: JSON.stringify(payment) }, { subject: `${topic}-value` });
    const encoded = await kafkajs.encode(id, { id: 'p-3', amount: 1.5 });
    const deserializer = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [url] }), SerdeType.VALUE, {});
    expect(await deserializer.deserialize(topic, encoded)).toEqual({ id: 'p-3', amount: 1.5 });
  });

  it('serializes and deserializes JSON Schema records', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const topic = unique('orders');
    const schema = JSON.stringify({ type: 'object', properties: { id: { type: 'string' } }, required: ['id'] });
    const id = await client.register(`${topic}-value`, { schemaType: 'JSON', schema });
    const serializer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const encoded = await serializer.serialize(topic, { id: 'o-2' });
    expect(wireId(encoded)).toBe(id);
    expect(await new JsonDeserializer(client, SerdeType.VALUE, {}).deserialize(topic, encoded)).toEqual({ id: 'o-2' });
  });

  it('tests compatibility and sets a subject level', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const subject = unique('payments-value');
    await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(payment) });
    expect(await client.testSubjectCompatibility(subject, { schemaType: 'AVRO', schema: JSON.stringify(paymentWithCurrency) })).toBe(true);
    expect(await client.testCompatibility(subject, 1, { schemaType: 'AVRO', schema: JSON.stringify(paymentWithoutDefault) })).toBe(false);
    expect(await client.updateConfig(subject, { compatibility: Compatibility.NONE })).toMatchObject({ compatibility: 'NONE' });
    expect(await client.testSubjectCompatibility(subject, { schemaType: 'AVRO', schema: JSON.stringify(paymentWithoutDefault) })).toBe(true);
    expect(await client.getAllVersions(subject)).toEqual([1]);
  });

  it('deletes a version and a subject, soft then permanently, though it sends its content type on every DELETE', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const subject = unique('payments-value');
    await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(payment) });
    await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(paymentWithCurrency) });
    expect(await client.deleteSubjectVersion(subject, 2)).toBe(2);
    expect(await client.deleteSubject(subject)).toEqual([1]);
    expect(await client.deleteSubject(subject, true)).toEqual([1, 2]);
    expect(await client.getAllSubjects()).not.toContain(subject);
  });
});
