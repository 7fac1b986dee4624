// examples/fraud-velocity applied as it is (its Topics and its StreamJob, as kubectl apply would): the job runs on a runtime pod, reads the sample from Kafka and gives the example's hand-computed results in Kafka and Redis.
import { readFileSync } from 'node:fs';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { RunningManager } from '@sluice/controller';
import { group, version } from '@sluice/crds';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { eventually } from '../env/src/eventually.js';
import { runController } from './controller/harness.js';
import { kafka, readCommitted } from './kafka/harness.js';
import { endpoints, kubeconfig, prepareWorld, readTopic, waitForPhase, type JobWorld } from './stream-job/harness.js';

const custom = kubeconfig.makeApiClient(CustomObjectsApi);
const example = (file: string): string => readFileSync(new URL(`../../examples/fraud-velocity/${file}`, import.meta.url), 'utf8');
const manifests = (file: string): { apiVersion: string; kind: string; metadata: { name: string } }[] =>
  parseAllDocuments(example(file)).map((document) => document.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } });
const topicNames = manifests('topics.yaml').map((topic) => topic.metadata.name);
const plural: Record<string, string> = { Topic: 'topics', StreamJob: 'streamjobs' };

let world: JobWorld;
let controller: RunningManager;
const redis = new Redis(endpoints.redis.url, { lazyConnect: true });

/** The example names global Kafka topics: whatever an earlier run left in them goes first. */
async function deleteExampleTopics(): Promise<void> {
  const admin = kafka(endpoints.kafka.brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topicNames.filter((topic) => existing.has(topic));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
    await eventually(
      'the example topics gone from Kafka',
      async () => ((await admin.listTopics()).some((topic) => topicNames.includes(topic)) ? undefined : true),
      60_000,
      250,
    );
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  await deleteExampleTopics();
  world = await prepareWorld('sj-example');
  controller = await runController(world.namespace, { streamJobs: { redisUrl: endpoints.redis.url, snapshotLocation: `s3://${world.bucket}` } });
  await redis.connect();
}, 120_000);

afterAll(async () => {
  await world.close();
  await controller.stop();
  redis.disconnect();
}, 120_000);

describe('the fraud-velocity example on the operator', () => {
  it('runs as applied and gives the example’s expected results in Kafka and in Redis', async () => {
    const { namespace } = world;
    for (const manifest of [...manifests('topics.yaml'), ...manifests('job.yaml')]) {
      await custom.createNamespacedCustomObject({ group, version, namespace, plural: plural[manifest.kind]!, body: manifest });
    }
    for (const topic of topicNames) {
      await eventually(
        `Topic ${topic} Ready`,
        async () =>
          (await readTopic(namespace, topic)).status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True')
            ? true
            : undefined,
        60_000,
        250,
      );
    }
    await waitForPhase(namespace, 'fraud-velocity', 'Running', 1);

    // The sample in its line order on one partition (as streamctl run reads the file), then one transaction an hour later so every window fires.
    const producer = kafka(endpoints.kafka.brokers).producer();
    await producer.connect();
    const sample = example('sample.jsonl').trim().split('\n');
    const flush = JSON.stringify({
      transaction_id: 'flush',
      customer_id: 'FLUSH',
      merchant_id: 'M0',
      amount: 1,
      currency: 'NZD',
      timestamp: '2025-12-05T12:00:00.000Z',
    });
    await producer.send({ topic: 'transactions', messages: [...sample, flush].map((value) => ({ partition: 0, value })) });
    await producer.disconnect();

    const expected = example('expected.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { customer_id: string; txn_count: number });
    const results = await eventually(
      `${expected.length} results in fraud-features`,
      async () => {
        const values = (await readCommitted(endpoints.kafka.brokers, 'fraud-features')).map(
          (message) => JSON.parse(message.value!.toString()) as { customer_id: string },
        );
        return values.length >= expected.length ? values : undefined;
      },
      90_000,
      500,
    );
    // fraud-features is keyed by customer over 6 partitions: each customer's results keep their order, the customers interleave.
    const byCustomer = (list: readonly { customer_id: string }[]): Map<string, unknown[]> => {
      const grouped = new Map<string, unknown[]>();
      for (const result of list) grouped.set(result.customer_id, [...(grouped.get(result.customer_id) ?? []), result]);
      return grouped;
    };
    expect(byCustomer(results)).toEqual(byCustomer(expected));

    // The feature store holds each customer's count of its latest window, with the example's 5-minute TTL.
    for (const customer of ['C123', 'C456', 'C789']) {
      const latest = expected.filter((result) => result.customer_id === customer).at(-1)!;
      const key = `fraud_features:${customer}:txn_count_5m`;
      expect(await redis.get(key)).toBe(String(latest.txn_count));
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    }
  }, 300_000);
});
