// The runtime on the real Kafka: kill -9 in the middle of a run loses and duplicates nothing for read_committed readers.
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  multiset,
  produceGenerated,
  readCommitted,
  startRuntime,
  uniqueName,
  writeFraudJob,
  type FraudJobTopics,
  removeScratchDirs,
  scratchDir,
  killAfterCommits,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;

/**
 * Input for many commit intervals: produced in small batches and fetched one batch at a time, so the
 * run takes dozens of transactions. 20 events/s of event time over 30 000 events: 25 minutes, five
 * windows per customer; 1 % arrive 10 minutes late (the late output).
 */
const workload = {
  workload: 'transactions',
  seed: 7,
  count: 30_000,
  batchSize: 100,
  keys: 300,
  rate: 20,
  disorder: 20_000,
  lateFraction: 0.01,
  lateBy: 600_000,
  partitions: PARTITIONS,
} as const;

function jobTopics(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

function runtimeEnv(jobFile: string): Record<string, string> {
  return {
    SLUICE_JOB_FILE: jobFile,
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
    SLUICE_MAX_BYTES_PER_PARTITION: '1024',
  };
}

describe('the runtime on Kafka, exactly once', () => {
  afterAll(removeScratchDirs);

  const input = uniqueName('txn');
  let expected: string[] = [];
  let expectedLate: string[] = [];

  beforeAll(async () => {
    await createTopics(brokers, [input], PARTITIONS);
    expect(await produceGenerated(brokers, input, workload)).toBe(workload.count);
    const clean = jobTopics(input, uniqueName('fraud-clean'));
    await startRuntime(runtimeEnv(writeFraudJob(clean))).exitsWith(0);
    expected = multiset(await readCommitted(brokers, clean.output));
    expectedLate = multiset(await readCommitted(brokers, clean.late));
  });

  it('runs the fraud job to the end of a bounded input with results and late records', () => {
    expect(expected.length).toBeGreaterThan(1000);
    expect(expectedLate.length).toBeGreaterThan(0);
  });

  it('gives the same read_committed output after kill -9 in the middle, twice, and a restart as an uninterrupted run', async () => {
    const crashed = jobTopics(input, uniqueName('fraud-crash'));
    const env = runtimeEnv(writeFraudJob(crashed));
    // Killed twice, each time after a few transactions of its run while more input waits: the kills land between or inside commits.
    await killAfterCommits(env, [3, 5]);
    // (Not read here: a transaction the kill left open keeps read_committed readers waiting until the restart fences it.)
    const last = startRuntime(env);
    await last.exitsWith(0);
    // The restart rebuilt the windows' state from the changelog the killed run committed.
    expect(last.events.find((e) => e.event === 'running')?.restoredRecords).toBeGreaterThan(0);
    expect(multiset(await readCommitted(brokers, crashed.output))).toEqual(expected);
    expect(multiset(await readCommitted(brokers, crashed.late))).toEqual(expectedLate);
  });

  it('restores from the latest checkpoint plus the changelog after it, with the same output', async () => {
    const topics = jobTopics(input, uniqueName('fraud-checkpoint'));
    const env = { ...runtimeEnv(writeFraudJob(topics)), SLUICE_SNAPSHOT_LOCATION: scratchDir('checkpoints'), SLUICE_CHECKPOINT_INTERVAL: '200ms' };
    const killed = startRuntime(env);
    await killed.waitForEvents('checkpoint', 1);
    // A few more transactions after the checkpoint, so the restart has a changelog tail to replay on top of it.
    await killed.waitForEvents('committed', killed.events.filter((e) => e.event === 'committed').length + 2);
    killed.child.kill('SIGKILL');
    await killed.exitsWith(null);

    const last = startRuntime(env);
    await last.exitsWith(0);
    expect(last.events.find((e) => e.event === 'running')?.restoredFromSnapshot).toEqual([0, 1, 2]);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
  });

  it('continues a job killed at parallelism 1 on 3 pods, each restoring its partitions, with the same output', async () => {
    const topics = jobTopics(input, uniqueName('fraud-rescale'));
    const env = runtimeEnv(writeFraudJob(topics));
    const killed = startRuntime(env);
    await killed.waitForEvents('committed', 4);
    killed.child.kill('SIGKILL');
    await killed.exitsWith(null);

    const pods = [0, 1, 2].map((ordinal) =>
      startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_POD_ORDINAL: String(ordinal), SLUICE_PARALLELISM: '3' }),
    );
    for (const pod of pods) await pod.exitsWith(0);
    expect(pods.map((pod) => pod.events.find((e) => e.event === 'running')?.partitions)).toEqual([[0], [1], [2]]);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
  });

  it('fences a paused zombie with the same ordinal: its next transaction fails, and the output stays exact', async () => {
    const topics = jobTopics(input, uniqueName('fraud-zombie'));
    const env = runtimeEnv(writeFraudJob(topics));
    const zombie = startRuntime(env);
    await zombie.waitForEvents('committed', 2);
    // Frozen mid-run, as by a long GC pause or a network partition, while its replacement starts.
    zombie.child.kill('SIGSTOP');
    const replacement = startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state') });
    await replacement.waitForEvents('running', 1);
    zombie.child.kill('SIGCONT');
    await zombie.exitsWith(1);
    expect(zombie.events.find((e) => e.event === 'failed')?.error).toMatch(/newer producer with the same transactionalId|fenced/);
    await replacement.exitsWith(0);
    expect(multiset(await readCommitted(brokers, topics.output))).toEqual(expected);
  });

  it('stops on SIGTERM after a final commit, and a restart continues where it stopped', async () => {
    const stopped = jobTopics(input, uniqueName('fraud-term'));
    const env = runtimeEnv(writeFraudJob(stopped));
    const first = startRuntime(env);
    await first.waitForEvents('committed', 2);
    first.child.kill('SIGTERM');
    await first.exitsWith(0);
    expect(first.events.some((e) => e.event === 'stopping' && e.reason === 'SIGTERM')).toBe(true);

    const second = startRuntime(env);
    await second.exitsWith(0);
    expect(multiset(await readCommitted(brokers, stopped.output))).toEqual(expected);
  });
});
