// A hung Redis feature store (its server SIGSTOPped) under a running job: the pod fails loudly within its bounds (log naming the address, exit 1), and once Redis answers a restart leaves the store and the output equal to an uninterrupted run's.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  multiset,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeFraudJob,
  type FraudJobTopics,
} from '../e2e/kafka/harness.js';
import { produceBatch, produceEndOfInput, startPrivateRedis, type PrivateRedis } from './stuck-harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 2;
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
});

afterAll(async () => {
  redis.thaw();
  await redis.stop();
  removeScratchDirs();
});

function jobTopics(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

/** The fraud job with a Redis sink beside its Kafka sink: each window's result as JSON under `<job>:<customer>:<window start>`. */
function writeJobWithRedis(topics: FraudJobTopics): string {
  const manifest = parse(readFileSync(writeFraudJob(topics), 'utf8')) as { spec: { sinks: unknown[] } };
  manifest.spec.sinks.push({ name: 'feature-store', redis: { key: `${topics.name}:{customer_id}:{window_start}` } });
  const file = join(scratchDir('job'), 'job.yaml');
  writeFileSync(file, stringify(manifest));
  return file;
}

function runtimeEnv(topics: FraudJobTopics, state = scratchDir('state')): Record<string, string> {
  return {
    SLUICE_JOB_FILE: writeJobWithRedis(topics),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: state,
    SLUICE_END_MARKERS: 'true',
    SLUICE_REDIS_URL: redis.url,
  };
}

/** Every key the job wrote, without the job's prefix, with its value. */
async function featureStore(job: string): Promise<Record<string, string | null>> {
  const client = new Redis(redis.url);
  try {
    const keys = (await client.keys(`${job}:*`)).sort();
    const values = keys.length === 0 ? [] : await client.mget(...keys);
    return Object.fromEntries(keys.map((key, i) => [key.slice(job.length + 1), values[i] ?? null]));
  } finally {
    client.disconnect();
  }
}

describe('a job whose Redis hangs', () => {
  it('fails loudly naming Redis instead of stalling, and a restart once Redis answers leaves the feature store as an uninterrupted run does', async () => {
    const input = uniqueName('stuck-redis');
    await createTopics(brokers, [input], PARTITIONS);
    let produced = await produceBatch(brokers, input, PARTITIONS, 0);
    produced = await produceBatch(brokers, input, PARTITIONS, produced);
    const topics = jobTopics(input, uniqueName('fraud-stuck-redis'));
    const env = runtimeEnv(topics);
    const pod = startRuntime(env);
    await pod.waitForEvents('committed', 1);
    const address = redis.url.replace('redis://', '');
    expect(Object.keys(await featureStore(topics.name)).length).toBeGreaterThan(0);

    redis.freeze();
    // More windows close, so the next commit has results for Redis.
    for (let batch = 0; batch < 3; batch++) produced = await produceBatch(brokers, input, PARTITIONS, produced);
    await pod.exitsWith(1);
    const failed = pod.events.find((e) => e.event === 'failed') as { error: string } | undefined;
    expect(failed?.error).toContain(`redis sink: writing to ${address} failed 3 times (a write failed: Command timed out)`);
    expect(failed?.error).toContain(`check that Redis at ${address} is up`);

    redis.thaw();
    await produceEndOfInput(brokers, input, PARTITIONS);
    await startRuntime(env).exitsWith(0);

    const clean = jobTopics(input, uniqueName('fraud-clean'));
    await startRuntime(runtimeEnv(clean)).exitsWith(0);
    const expected = await featureStore(clean.name);
    expect(Object.keys(expected).length).toBeGreaterThan(10);
    expect(await featureStore(topics.name)).toEqual(expected);
    for (const side of ['output', 'late', 'deadLetter'] as const) {
      expect(multiset(await readCommitted(brokers, topics[side]))).toEqual(multiset(await readCommitted(brokers, clean[side])));
    }
  }, 240_000);
});
