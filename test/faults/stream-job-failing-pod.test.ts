// A StreamJob whose Redis feature store hangs (its server SIGSTOPped): the failing runtime pod shows in the job's RuntimeHealthy condition and a Warning Event, naming Redis; once Redis answers the condition clears and every result is right.
import { Redis } from 'ioredis';
import type { StreamJob } from '@sluice/crds';
import { eventually } from '../env/src/eventually.js';
import { allResults, condition, core, createJob, described, fraudJob, jobTest, readJob, waitForPhase } from '../e2e/stream-job/harness.js';
import { startPrivateRedis, type PrivateRedis } from './stuck-harness.js';

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  redis?.thaw();
  await redis?.stop();
});
const setup = jobTest('sj-failing-pod');

/** The fraud job on one pod, each window's result also written to Redis under `<job>:<customer>:<window start>`. */
function jobWithRedis(): StreamJob {
  const { name, topics, world } = setup;
  const job = fraudJob(name, topics, world, undefined, 1);
  job.spec.sinks.push({ name: 'feature-store', redis: { key: `${name}:{customer_id}:{window_start}` } });
  job.spec.connections = { ...job.spec.connections, redis: { url: redis.url } };
  return job;
}

/** The feature store in the form of TransactionFeed.expected(), without the flush customers. */
async function featureStore(job: string): Promise<string[]> {
  const client = new Redis(redis.url);
  try {
    const keys = await client.keys(`${job}:c*`);
    const values = keys.length === 0 ? [] : await client.mget(...keys);
    return values
      .map((value) => JSON.parse(value!) as { customer_id: string; window_start: string; txn_count: number; txn_sum: number | string })
      .map((result) => `${result.customer_id} ${result.window_start} count=${result.txn_count} sum=${Number(result.txn_sum)}`)
      .sort();
  } finally {
    client.disconnect();
  }
}

describe('a StreamJob whose Redis hangs', () => {
  it('says which pod fails and why in RuntimeHealthy, with one Warning Event per failure, and clears it once Redis answers again', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    const address = redis.url.replace('redis://', '');
    await feed.produce(200);
    await createJob(namespace, jobWithRedis());
    await waitForPhase(namespace, name, 'Running', 1);
    await eventually('the first windows in Redis', async () => ((await featureStore(name)).length > 0 ? true : undefined), 60_000, 500);

    redis.freeze();
    // Windows keep closing, so every commit has results for the frozen Redis.
    feed.startSteady(5, 200);
    const failing = await eventually(
      'RuntimeHealthy False naming Redis',
      async () => {
        const job = await readJob(namespace, name);
        return condition(job, 'RuntimeHealthy')?.status === 'False' ? job : undefined;
      },
      120_000,
      500,
    );
    const failed = condition(failing, 'RuntimeHealthy')!;
    expect(failed.reason).toBe('RuntimeFailing');
    expect(failed.message).toMatch(
      new RegExp(
        `^pod ${name}-0 last exited 1 at \\S+Z(, restarted \\d+ times?)?( \\(\\w+\\))?: redis sink: writing to ${address.replace(/\./g, '\\.')} failed`,
      ),
    );
    expect(failed.message).toContain(`check that Redis at ${address} is up`);
    const warnings = async (): Promise<string[]> =>
      (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items
        .filter((event) => event.reason === 'RuntimeFailing' && event.type === 'Warning')
        .map((event) => event.message ?? '');
    await eventually('the RuntimeFailing Event', async () => ((await warnings()).length > 0 ? true : undefined), 10_000, 250);
    expect((await warnings())[0]).toContain(`redis sink: writing to ${address} failed`);

    // Still frozen: the restarted runtime fails again, a second failure with an Event of its own.
    const firstExit = /last exited 1 at (\S+Z)/.exec(failed.message)?.[1];
    await eventually(
      'a second failure in RuntimeHealthy',
      async () => {
        const message = condition(await readJob(namespace, name), 'RuntimeHealthy')?.message ?? '';
        return /restarted [1-9]/.test(message) && !message.includes(`at ${firstExit}`) ? true : undefined;
      },
      120_000,
      500,
    );
    await eventually('a Warning Event for each of the two failures', async () => ((await warnings()).length >= 2 ? true : undefined), 10_000, 250);

    redis.thaw();
    const recovered = await eventually(
      'RuntimeHealthy True again',
      async () => {
        const job = await readJob(namespace, name);
        return condition(job, 'RuntimeHealthy')?.status === 'True' ? job : undefined;
      },
      180_000,
      1000,
    );
    expect(condition(recovered, 'RuntimeHealthy')?.reason).toBe('RuntimeRecovered');
    // Each Event is one failure: as many as the distinct exits, never one per reconcile.
    const exits = (await warnings()).map((message) => /last exited 1 at (\S+Z)/.exec(message)?.[1]);
    expect(new Set(exits).size).toBe(exits.length);
    expect(exits.length).toBeGreaterThanOrEqual(2);
    expect(exits.length).toBeLessThan(10);

    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, topics.output, 180_000);
    expect(described(results)).toEqual(feed.expected());
    expect(await featureStore(name)).toEqual(feed.expected());
  }, 600_000);
});
