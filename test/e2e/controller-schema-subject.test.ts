// The SchemaSubject reconciler against the real API server and the Sluice registry on its Kafka store: register, refuse an incompatible schema, evolve, ConfigMap schemas, the three deletion policies.
import type { AddressInfo } from 'node:net';
import type { RunningManager } from '@sluice/controller';
import { createRegistry, KafkaStore } from '@sluice/registry';
import type { FastifyInstance } from 'fastify';
import {
  cleanNamespace,
  condition,
  core,
  create,
  endpoints,
  eventually,
  gone,
  patch,
  prepareNamespace,
  randomName,
  remove,
  runController,
  until,
} from './controller/harness.js';

let namespace: string;
let registry: FastifyInstance;
let registryUrl: string;
let controller: RunningManager;

beforeAll(async () => {
  namespace = await prepareNamespace('sluice-subject');
  registry = createRegistry({ store: new KafkaStore({ brokers: endpoints.kafka.brokers, topic: randomName('_schemas') }) });
  await registry.listen({ port: 0, host: '127.0.0.1' });
  registryUrl = `http://127.0.0.1:${(registry.server.address() as AddressInfo).port}`;
  controller = await runController(namespace, { defaultRegistryUrl: registryUrl });
});

afterAll(async () => {
  await cleanNamespace(namespace);
  await controller?.stop();
  await registry?.close();
});

const payment = (fields: object[]): string => JSON.stringify({ type: 'record', name: 'Payment', namespace: 'dev.sluice.test', fields });
const v1 = payment([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
]);
const v2Compatible = payment([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'currency', type: 'string', default: 'EUR' },
]);
const v2Incompatible = payment([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'merchant', type: 'string' },
]);

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${registryUrl}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

const versionsOf = async (subject: string, deleted = false) =>
  get<number[] | { error_code: number }>(`/subjects/${subject}/versions${deleted ? '?deleted=true' : ''}`);

describe('the SchemaSubject reconciler', () => {
  it('registers the schema, sets the compatibility level and reports id and version', async () => {
    const subject = randomName('payments-value');
    const name = randomName('payments');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, schema: v1, compatibility: 'FULL' } });
    const resource = await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    const latest = await get<{ id: number; version: number }>(`/subjects/${subject}/versions/latest`);
    expect(resource.status).toMatchObject({ subject, id: latest.body.id, version: 1, registryUrl, observedGeneration: 1 });
    expect((await get<{ compatibilityLevel: string }>(`/config/${subject}`)).body.compatibilityLevel).toBe('FULL');
  });

  it('refuses an incompatible schema with the registry reasons, leaves the subject unchanged, then registers a compatible evolution as version 2', async () => {
    const subject = randomName('orders-value');
    const name = randomName('orders');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, schema: v1, compatibility: 'BACKWARD' } });
    const first = await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    await patch('schemasubjects', namespace, name, { spec: { schema: v2Incompatible } });
    const refused = await until('schemasubjects', namespace, name, 'Ready', 'False', 'IncompatibleSchema');
    expect(condition(refused, 'Ready')?.message).toMatch(/merchant/);
    expect(refused.status).toMatchObject({ id: first.status?.id, version: 1 });
    expect((await versionsOf(subject)).body).toEqual([1]);
    await patch('schemasubjects', namespace, name, { spec: { schema: v2Compatible } });
    const evolved = await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    expect(evolved.status?.version).toBe(2);
    expect(evolved.status?.id).not.toBe(first.status?.id);
    expect((await versionsOf(subject)).body).toEqual([1, 2]);
  });

  it('reads the schema from a ConfigMap and registers a new version when the ConfigMap changes', async () => {
    const subject = randomName('events-value');
    const name = randomName('events');
    const configMap = randomName('schemas');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, configMapRef: { name: configMap, key: 'payment.avsc' } } });
    await until('schemasubjects', namespace, name, 'Ready', 'False', 'SchemaSourceNotFound');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: configMap }, data: { 'payment.avsc': v1 } } });
    expect((await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered')).status?.version).toBe(1);
    await core.replaceNamespacedConfigMap({ namespace, name: configMap, body: { metadata: { name: configMap }, data: { 'payment.avsc': v2Compatible } } });
    await eventually('version 2 from the changed ConfigMap', async () => {
      const versions = (await versionsOf(subject)).body;
      return Array.isArray(versions) && versions.length === 2 ? versions : undefined;
    });
    await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
  });

  it('keeps the subject under deletionPolicy retain', async () => {
    const subject = randomName('kept-value');
    const name = randomName('kept');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, schema: v1 } });
    await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    await remove('schemasubjects', namespace, name);
    await gone('schemasubjects', namespace, name);
    expect((await versionsOf(subject)).body).toEqual([1]);
  });

  it('soft-deletes the subject under deletionPolicy soft', async () => {
    const subject = randomName('soft-value');
    const name = randomName('soft');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, schema: v1, deletionPolicy: 'soft' } });
    await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    await remove('schemasubjects', namespace, name);
    await gone('schemasubjects', namespace, name);
    expect((await versionsOf(subject)).status).toBe(404);
    expect((await versionsOf(subject, true)).body).toEqual([1]);
  });

  it('removes the subject for good under deletionPolicy hard', async () => {
    const subject = randomName('hard-value');
    const name = randomName('hard');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject, schema: v1, deletionPolicy: 'hard' } });
    await until('schemasubjects', namespace, name, 'Ready', 'True', 'Registered');
    await remove('schemasubjects', namespace, name);
    await gone('schemasubjects', namespace, name);
    expect((await versionsOf(subject, true)).status).toBe(404);
  });
});
