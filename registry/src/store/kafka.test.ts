// The Kafka store against the real Kafka of the test environment: replicas on one `_schemas` topic agree, and a restart sees everything.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import { eventually } from '../../../test/env/src/eventually.js';
import { contentType, createRegistry } from '../http/app.js';
import { KafkaStore } from './kafka.js';

const { brokers } = readEndpoints().kafka;
const started: FastifyInstance[] = [];

async function replica(topic: string): Promise<FastifyInstance> {
  const app = createRegistry({ store: new KafkaStore({ brokers, topic }) });
  await app.ready();
  started.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close()));
});

const schemaWith = (field: string) => JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: field, type: 'string', default: '' }] });

async function call(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await app.inject({
    method,
    url,
    ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': contentType } }),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as unknown };
}

const register = async (app: FastifyInstance, subject: string, schema: string) =>
  (await call(app, 'POST', `/subjects/${subject}/versions`, { schema })).body as { id: number };

describe('the Kafka store', () => {
  it('creates its topic compacted with one partition', async () => {
    const topic = `_schemas-${randomUUID()}`;
    await replica(topic);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(1);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }] });
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('lets two replicas on one topic agree on ids, also when they register at the same time', async () => {
    const topic = `_schemas-${randomUUID()}`;
    const [a, b] = await Promise.all([replica(topic), replica(topic)]);
    const first = await register(a, 'payments-value', schemaWith('id'));
    expect(await register(b, 'transfers-value', schemaWith('id'))).toEqual(first);

    const fields = Array.from({ length: 8 }, (_, i) => `f${i}`);
    const results = await Promise.all(fields.map((field, i) => register(i % 2 === 0 ? a : b, `subject-${field}`, schemaWith(field))));
    const ids = results.map((r) => r.id);
    expect(new Set(ids).size).toBe(fields.length);
    expect(ids).not.toContain(first.id);

    for (const [index, field] of fields.entries()) {
      for (const app of [a, b]) {
        const seen = await eventually(`subject-${field} on both replicas`, async () => {
          const answer = await call(app, 'GET', `/subjects/subject-${field}/versions/latest`);
          return answer.status === 200 ? answer.body : undefined;
        });
        expect(seen).toMatchObject({ id: ids[index], version: 1 });
      }
    }
    expect(await register(b, 'payments-value', schemaWith('f3'))).toEqual({ id: ids[3] });
  });

  it('settles two replicas racing for the next version of one subject, and a restart agrees', async () => {
    const topic = `_schemas-${randomUUID()}`;
    const [a, b] = await Promise.all([replica(topic), replica(topic)]);
    await register(a, 'payments-value', schemaWith('id'));
    await eventually('the first version on the second replica', async () =>
      (await call(b, 'GET', '/subjects/payments-value/versions')).status === 200 ? true : undefined,
    );
    const fields = ['a', 'b', 'c', 'd'];
    const ids = await Promise.all(fields.map((field, i) => register(i % 2 === 0 ? a : b, 'payments-value', schemaWith(field))));
    expect(new Set(ids.map((r) => r.id)).size).toBe(fields.length);
    const versions = await eventually('all five versions on both replicas', async () => {
      const [onA, onB] = await Promise.all([call(a, 'GET', '/subjects/payments-value/versions'), call(b, 'GET', '/subjects/payments-value/versions')]);
      return JSON.stringify(onA.body) === JSON.stringify(onB.body) && (onA.body as number[]).length === 5 ? (onA.body as number[]) : undefined;
    });
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    const restarted = await replica(topic);
    for (const version of versions) {
      const [before, after] = await Promise.all([
        call(a, 'GET', `/subjects/payments-value/versions/${version}`),
        call(restarted, 'GET', `/subjects/payments-value/versions/${version}`),
      ]);
      expect(after.body).toEqual(before.body);
    }
  });

  it('shows a restarted replica everything that was registered, deleted and configured', async () => {
    const topic = `_schemas-${randomUUID()}`;
    const a = await replica(topic);
    await register(a, 'payments-value', schemaWith('id'));
    await register(a, 'payments-value', schemaWith('amount'));
    await register(a, 'old-value', schemaWith('id'));
    await call(a, 'DELETE', '/subjects/payments-value/versions/1');
    await call(a, 'DELETE', '/subjects/old-value');
    await call(a, 'DELETE', '/subjects/old-value?permanent=true');
    await call(a, 'PUT', '/config/payments-value', { compatibility: 'FULL' });
    await a.close();
    started.splice(started.indexOf(a), 1);

    const restarted = await replica(topic);
    expect((await call(restarted, 'GET', '/subjects?deleted=true')).body).toEqual(['payments-value']);
    expect((await call(restarted, 'GET', '/subjects/payments-value/versions?deleted=true')).body).toEqual([1, 2]);
    expect((await call(restarted, 'GET', '/subjects/payments-value/versions')).body).toEqual([2]);
    expect((await call(restarted, 'GET', '/config/payments-value')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect(await register(restarted, 'next-value', schemaWith('other'))).toEqual({ id: 3 });
  });

  it('refuses with 413 a schema that fits the request but not the broker, naming the topic, and registers the next one', async () => {
    const topic = `_schemas-${randomUUID()}`;
    const a = await replica(topic);
    // Within the 1 MiB request limit; its log record, with the subject, id and version around it, is over the broker's default 1 MiB.
    const large = JSON.stringify({ type: 'record', name: 'Large', doc: 'x'.repeat(1024 * 1024 - 120), fields: [] });
    const refused = await call(a, 'POST', '/subjects/large-value/versions', { schema: large });
    expect(refused).toMatchObject({
      status: 413,
      body: { error_code: 413, message: expect.stringContaining(`larger than Kafka accepts on topic '${topic}'`) as string },
    });
    expect(await register(a, 'payments-value', schemaWith('id'))).toEqual({ id: 1 });
  });
});
