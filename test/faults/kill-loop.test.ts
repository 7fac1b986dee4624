// Random kill -9s of the runtime, and of the Kafka broker under it, on a Kafka cluster of the test's own: the read_committed output equals an uninterrupted run's.
import { randomBytes } from 'node:crypto';
import { envPaths } from '../env/src/proc.js';
import { startPrivateKafka, type PrivateKafka } from '../env/src/kafka.js';
import {
  createTopics,
  multiset,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeFraudJob,
  type FraudJobTopics,
  type RuntimeProcess,
} from '../e2e/kafka/harness.js';
import { within } from './harness.js';

const PARTITIONS = 3;
/** Kills of the runtime; one more kill takes the broker down under a running runtime, right after one of its commits. */
const RUNTIME_KILLS = 6;
const workload = {
  workload: 'transactions',
  seed: 11,
  count: 20_000,
  batchSize: 100,
  keys: 200,
  rate: 20,
  disorder: 20_000,
  lateFraction: 0.01,
  lateBy: 600_000,
  partitions: PARTITIONS,
} as const;

/** A small deterministic PRNG (mulberry32), so a failing kill schedule can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function jobTopics(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

describe('random kill -9 of the runtime and of the broker', () => {
  let broker: PrivateKafka;
  let brokers: string[];
  const seed = Number(process.env.SLUICE_FAULT_SEED ?? randomBytes(4).readUInt32BE(0));
  const random = prng(seed);

  beforeAll(async () => {
    broker = await startPrivateKafka(envPaths(), scratchDir('kafka'));
    brokers = broker.endpoint.brokers;
  }, 180_000);

  afterAll(async () => {
    await broker?.stop();
    removeScratchDirs();
  });

  const env = (jobFile: string): Record<string, string> => ({
    SLUICE_JOB_FILE: jobFile,
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
    SLUICE_MAX_BYTES_PER_PARTITION: '1024',
  });

  /**
   * Starts the runtime and kills it with SIGKILL after a random number of its commits; false when it reached the end of
   * the input first (a fast machine) and exited 0 by itself.
   */
  async function killAfterSomeCommits(jobEnv: Record<string, string>): Promise<boolean> {
    const runtime = startRuntime(jobEnv);
    const commits = 1 + Math.floor(random() * 6);
    const reached = await within(
      120_000,
      `${commits} commits of the runtime, or its end`,
      runtime.waitForEvents('committed', commits).then(
        () => true,
        () => false,
      ),
    );
    if (!reached) {
      await runtime.exitsWith(0);
      return false;
    }
    runtime.child.kill('SIGKILL');
    await runtime.exitsWith(null);
    return true;
  }

  /**
   * The broker killed under a running runtime, then started again: the runtime fails loudly or carries on, and never
   * hangs. The kill follows a commit at once, while the broker may still be writing that transaction's markers.
   */
  async function killTheBroker(jobEnv: Record<string, string>): Promise<{ runtime: RuntimeProcess; killedAt: number; exitedAt: Promise<number> }> {
    const runtime = startRuntime(jobEnv);
    const exitedAt = runtime.exited.then(() => Date.now());
    await within(120_000, 'the runtime committing before the broker is killed', runtime.waitForEvents('committed', 1 + Math.floor(random() * 3)));
    await broker.kill();
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1000 + random() * 4000));
    await broker.start();
    return { runtime, killedAt, exitedAt };
  }

  it('gives the same read_committed output as an uninterrupted run', async () => {
    process.stderr.write(`kill loop seed ${seed} (SLUICE_FAULT_SEED=${seed} replays it)\n`);
    const input = uniqueName('kill-loop');
    await createTopics(brokers, [input], PARTITIONS);
    expect(await produceGenerated(brokers, input, workload)).toBe(workload.count);

    const clean = jobTopics(input, uniqueName('clean'));
    await within(300_000, 'the uninterrupted run', startRuntime(env(writeFraudJob(clean))).exitsWith(0));
    const expected = multiset(await readCommitted(brokers, clean.output));
    expect(expected.length).toBeGreaterThan(500);

    const crashed = jobTopics(input, uniqueName('crashed'));
    const jobEnv = env(writeFraudJob(crashed));
    const recoveries: number[] = [];
    let kills = 0;
    // Early, while plenty of input is left, so the runtime is still running when the broker dies.
    const brokerKillAt = Math.floor(random() * 3);
    for (let kill = 0; kill < RUNTIME_KILLS; kill++) {
      if (kill === brokerKillAt) {
        const { runtime: survivor, killedAt, exitedAt } = await killTheBroker(jobEnv);
        // It either fails (and the pod restarts) or commits again once the broker is back; either within bounds.
        const outcome = await within(
          180_000,
          'the runtime either failing or committing again after the broker came back',
          Promise.race([
            survivor.exited.then((code) => `exited ${code}`),
            survivor.waitForEvents('committed', survivor.events.filter((e) => e.event === 'committed').length + 2).then(() => 'committed'),
          ]),
        );
        recoveries.push((survivor.child.exitCode === null ? Date.now() : await exitedAt) - killedAt);
        process.stderr.write(`broker kill -9: the runtime ${outcome}\n`);
        survivor.child.kill('SIGKILL');
        await survivor.exited;
      }
      if (await killAfterSomeCommits(jobEnv)) kills += 1;
      else break;
    }
    // The first runs start far from the end of the input: at least those were killed mid-run.
    expect(kills).toBeGreaterThanOrEqual(2);
    const last = startRuntime(jobEnv);
    await within(300_000, 'the last run reaching the end of the input', last.exitsWith(0));
    // Every transaction whole: a broker that skipped a transaction's markers on its restart left it half committed.
    expect(broker.skippedMarkers()).toEqual([]);
    expect(multiset(await readCommitted(brokers, crashed.output))).toEqual(expected);
    const brokerPart =
      recoveries.length === 0 ? '' : `, 1 broker kill (the runtime failed or committed again ${(recoveries[0]! / 1000).toFixed(1)} s after the broker died)`;
    process.stderr.write(`kill loop: ${kills} runtime kills${brokerPart}\n`);
  }, 1_200_000);
});
