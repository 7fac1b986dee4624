// A runtime pod repartitions a job whose topic is keyed by something else through <app>-<keyBy>-repartition: the same windows as on a topic keyed by the key, and kill -9 loses and doubles nothing.
import type { SavepointResponse, StopResponse } from '@sluice/crds';
import { Kafka, logLevel } from 'kafkajs';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  fraudJobSpec,
  kafka,
  multiset,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
  killAfterCommits,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;
const token = 'test-token-of-this-run';

/**
 * 20 minutes of event time (5 events/s), four 5-minute windows per customer, in order within a partition: no record
 * is late under either partitioning, so both give every window whole.
 */
const workload = { workload: 'transactions', seed: 11, count: 6_000, batchSize: 100, keys: 100, rate: 5, partitions: PARTITIONS } as const;

function topicsOf(name: string, input: string): { name: string; input: string; output: string; late: string; deadLetter: string } {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

/** The fraud job on `input`, which its spec declares keyed by `keyedBy`. */
function jobFile(topics: ReturnType<typeof topicsOf>, keyedBy: string): string {
  const spec = fraudJobSpec(topics) as { sources: { kafka: Record<string, unknown> }[] };
  spec.sources[0]!.kafka.keyedBy = keyedBy;
  return writeJobFile(topics.name, spec);
}

/** Ends a bounded run's input: the end marker in every partition. */
async function endInput(topic: string): Promise<void> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
  } finally {
    await producer.disconnect();
  }
}

function runtimeEnv(file: string, extra: Record<string, string> = {}): Record<string, string> {
  return { SLUICE_JOB_FILE: file, SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_STATE_DIR: scratchDir('state'), SLUICE_END_MARKERS: 'true', ...extra };
}

describe('a runtime pod and a job whose topic is not keyed by its keyBy', () => {
  afterAll(removeScratchDirs);

  const byMerchant = uniqueName('txn-by-merchant');
  const byCustomer = uniqueName('txn-by-customer');
  let expected: string[] = [];

  beforeAll(async () => {
    await createTopics(brokers, [byMerchant, byCustomer], PARTITIONS);
    // The same transactions twice: once partitioned by merchant (a customer's in every partition), once by customer.
    expect(await produceGenerated(brokers, byMerchant, { ...workload, keyField: 'merchant_id' })).toBe(workload.count);
    expect(await produceGenerated(brokers, byCustomer, { ...workload, keyField: 'customer_id' })).toBe(workload.count);
    const keyed = topicsOf(uniqueName('velocity-keyed'), byCustomer);
    await startRuntime(runtimeEnv(jobFile(keyed, 'customer_id'))).exitsWith(0);
    expected = multiset(await readCommitted(brokers, keyed.output));
  }, 120_000);

  it('gives the final windows of the same job on a topic keyed by the key, through its repartition topic', async () => {
    expect(expected.length).toBeGreaterThan(300);
    const topics = topicsOf(uniqueName('velocity-repartitioned'), byMerchant);
    // Nothing purged, so every record and mark written is still there to count.
    await startRuntime(runtimeEnv(jobFile(topics, 'merchant_id'), { SLUICE_REPARTITION_PURGE_INTERVAL_MS: '0' })).exitsWith(0);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
    expect(await readCommitted(brokers, topics.late)).toEqual([]);
    // Every transaction went through the repartition topic, with each upstream partition's marks.
    const repartitioned = await readCommitted(brokers, `${topics.name}-keyBy-0-repartition`);
    const records = repartitioned.map((m) => JSON.parse(m.value!.toString()) as Record<string, unknown>).filter((value) => value.watermark === undefined);
    expect(records).toHaveLength(workload.count);
    expect(repartitioned.filter((m) => m.value!.toString().includes('"watermark":"Infinity"'))).toHaveLength(PARTITIONS * PARTITIONS);
  }, 120_000);

  it('gives the same windows after kill -9 in the middle, twice, and a restart, deleting the repartition records it read as it goes', async () => {
    const topics = topicsOf(uniqueName('velocity-crash'), byMerchant);
    // Small fetches: dozens of transactions in each stage, so the kills land between and inside commits of both; the
    // repartition topic purged every 200 ms, so purges land between the kills too.
    const env = runtimeEnv(jobFile(topics, 'merchant_id'), { SLUICE_MAX_BYTES_PER_PARTITION: '1024', SLUICE_REPARTITION_PURGE_INTERVAL_MS: '200' });
    await killAfterCommits(env, [6, 10]);
    const last = startRuntime({ ...env, SLUICE_LOG_LEVEL: 'debug' });
    await last.exitsWith(0);
    expect(last.events.find((e) => e.event === 'running')?.restoredRecords).toBeGreaterThan(0);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
    expect(await readCommitted(brokers, topics.late)).toEqual([]);
    // What stage 2 had committed past is gone from the repartition topic: each partition starts after its first records.
    expect(last.events.some((e) => e.event === 'repartition purged')).toBe(true);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${topics.name}-keyBy-0-repartition`).finally(() => admin.disconnect());
    expect(offsets.map(({ low }) => Number(low) > 0)).toEqual(offsets.map(() => true));
  }, 240_000);

  it('continues a job killed at parallelism 1 on 3 pods, each resuming both stages of its partitions, with the same windows', async () => {
    const topics = topicsOf(uniqueName('velocity-scale'), byMerchant);
    const env = runtimeEnv(jobFile(topics, 'merchant_id'), { SLUICE_MAX_BYTES_PER_PARTITION: '1024' });
    const one = startRuntime(env);
    await one.waitForEvents('committed', 10);
    one.child.kill('SIGKILL');
    await one.exitsWith(null);
    const three = [0, 1, 2].map((ordinal) =>
      startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_PARALLELISM: '3', SLUICE_POD_ORDINAL: String(ordinal) }),
    );
    await Promise.all(three.map((pod) => pod.exitsWith(0)));
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
    expect(await readCommitted(brokers, topics.late)).toEqual([]);
  }, 240_000);

  it('stops with a savepoint at parallelism 1 mid-stream and goes on from it at parallelism 3 with the same windows', async () => {
    const topics = topicsOf(uniqueName('velocity-rescale'), byMerchant);
    const env = runtimeEnv(jobFile(topics, 'merchant_id'), {
      SLUICE_MAX_BYTES_PER_PARTITION: '1024',
      SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints'),
      SLUICE_CONTROL_TOKEN: token,
    });
    const one = startRuntime(env);
    await one.waitForEvents('committed', 10);
    const stopped = (await one.control('POST', '/stop?savepoint=true')) as StopResponse;
    one.child.kill('SIGTERM');
    await one.exitsWith(0);
    expect(stopped.savepoint?.complete).toBe(true);
    const before = multiset(await readCommitted(brokers, topics.output));
    expect(before.length).toBeLessThan(expected.length);

    const three = [0, 1, 2].map((ordinal) =>
      startRuntime({
        ...env,
        SLUICE_STATE_DIR: scratchDir('state'),
        SLUICE_RESTORE_FROM: stopped.savepoint!.location,
        SLUICE_PARALLELISM: '3',
        SLUICE_POD_ORDINAL: String(ordinal),
      }),
    );
    await Promise.all(three.map((pod) => pod.exitsWith(0)));
    expect(three.map((pod) => pod.events.find((e) => e.event === 'running')?.restoredFromSavepoint)).toEqual([
      stopped.savepoint!.id,
      stopped.savepoint!.id,
      stopped.savepoint!.id,
    ]);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
    expect(await readCommitted(brokers, topics.late)).toEqual([]);
  }, 240_000);

  it('takes a savepoint while it runs on 2 pods, which go on to the end, and a run from it gives the windows after it, each whole', async () => {
    // The same transactions as the shared topic's, but its end markers only after the savepoint: a bounded run refuses a
    // savepoint once a partition has ended (it would restore stage 1 past its end marker), so the pods must not get there first.
    const input = uniqueName('txn-by-merchant-open');
    await createTopics(brokers, [input], PARTITIONS);
    expect(await produceGenerated(brokers, input, { ...workload, keyField: 'merchant_id' }, [], false)).toBe(workload.count);
    const topics = topicsOf(uniqueName('velocity-running-savepoint'), input);
    const env = runtimeEnv(jobFile(topics, 'merchant_id'), {
      SLUICE_MAX_BYTES_PER_PARTITION: '1024',
      SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints'),
      SLUICE_CONTROL_TOKEN: token,
      SLUICE_PARALLELISM: '2',
    });
    const two = [0, 1].map((ordinal) => startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_POD_ORDINAL: String(ordinal) }));
    await Promise.all(two.map((pod) => pod.waitForEvents('committed', 4)));
    // Without the id both pods share, one pod cannot drain the repartition topic alone: refused at once, saying how.
    const alone = await two[0]!.request('POST', '/savepoints', {});
    expect(alone.status).toBe(409);
    expect(JSON.stringify(alone.body)).toMatch(/every pod must be asked for it under one id at once: take it with streamctl savepoint/);
    // The controller asks every pod at once, under one id.
    const answers = (await Promise.all(two.map((pod) => pod.control('POST', '/savepoints', { id: 'sp-running' })))) as SavepointResponse[];
    expect(answers.filter((answer) => answer.complete)).toHaveLength(1);
    await endInput(input);
    await Promise.all(two.map((pod) => pod.exitsWith(0)));
    // The pause for the savepoint lost and doubled nothing of the run that went on.
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);

    // The same job from the savepoint, writing elsewhere: its windows are the ones after the savepoint, each with
    // every record the savepoint's state and the replay hold — a record in the repartition topic at the savepoint
    // counted in neither (or in both) would make a window's count differ from the uninterrupted run's.
    const replay = { ...topics, output: `${topics.name}-replay` };
    const restored = startRuntime({ ...runtimeEnv(jobFile(replay, 'merchant_id')), SLUICE_RESTORE_FROM: answers[0]!.location });
    await restored.exitsWith(0);
    expect(restored.events.find((e) => e.event === 'running')?.restoredFromSavepoint).toBe('sp-running');
    const after = multiset(await readCommitted(brokers, replay.output));
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThan(expected.length);
    const remaining = [...expected];
    for (const result of after) {
      const at = remaining.indexOf(result);
      expect({ result, inTheUninterruptedRun: at >= 0 }).toEqual({ result, inTheUninterruptedRun: true });
      remaining.splice(at, 1);
    }
  }, 240_000);

  it('refuses a savepoint of the same job taken before it repartitioned: its state is by source partition, not by key', async () => {
    const topics = topicsOf(uniqueName('velocity-keyed-before'), byMerchant);
    const extra = { SLUICE_MAX_BYTES_PER_PARTITION: '1024', SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints'), SLUICE_CONTROL_TOKEN: token };
    // The same job declaring the topic keyed by customer: one stage, each key's state under the partition it was read from.
    const before = startRuntime(runtimeEnv(jobFile(topics, 'customer_id'), extra));
    await before.waitForEvents('committed', 3);
    const stopped = (await before.control('POST', '/stop?savepoint=true')) as StopResponse;
    before.child.kill('SIGTERM');
    await before.exitsWith(0);
    const restored = startRuntime(runtimeEnv(jobFile(topics, 'merchant_id'), { ...extra, SLUICE_RESTORE_FROM: stopped.savepoint!.location }));
    await restored.exitsWith(1);
    expect(restored.events.find((event) => event.event === 'failed')?.error).toMatch(
      new RegExp(
        `cannot start from savepoint ${stopped.savepoint!.id}: it was taken by a version of the job that did not repartition by customer_id .* start from the last commit instead`,
      ),
    );
  }, 120_000);
});
