// A job on a preloaded topic as a pod runs it, exactly-once, read to the end markers; events/s between the runtime's "running" and "finished" (phase (b)'s fraud-velocity job, and the jobs compared with it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAUD_VELOCITY_JOB, jobOnTopics } from './jobs.js';
import { commitStats, startRuntime, type CommitStats } from './runtime-process.js';

export interface BoundedJobOptions {
  /** The job's manifest (repository-relative); the fraud-velocity example when absent. */
  job?: string;
  /** The topics of the job's other sources (a join's tables), by source name. */
  sourceTopics?: Record<string, string>;
  brokers: string[];
  input: string;
  name: string;
  /** The test environment's Redis for the feature-store sink; without it the Redis sink is dropped from the job. */
  redisUrl: string | undefined;
  workDir: string;
  profileDir?: string;
  /** spec.delivery.commitInterval for the run (such as 1s); the job's own (100 ms by default) when absent. */
  commitInterval?: string;
  /** Records the input holds, for the progress line and the time allowed. */
  events: number;
  /** Drop the source's keyedBy, so the job repartitions through its repartition topic. */
  notKeyed?: boolean;
  /** The Kafka Secret's keys as files (SLUICE_KAFKA_SECRET_DIR), for brokers behind TLS and SASL. */
  kafkaSecretDir?: string;
  log: (line: string) => void;
}

export interface BoundedJobResult {
  recordsIn: number;
  recordsOut: number;
  /** The job's transactions: how many, what they carried (outputs and changelog records), how long they took. */
  commits: CommitStats;
  seconds: number;
  eventsPerSecond: number;
  redis: boolean;
  /** The commit interval the job ran with. */
  commitInterval: string;
}

/** Slower than 1000 events/s would be a broken run, not a slow one. */
const timeoutFor = (events: number): number => 120_000 + events;

export async function runBoundedJob(options: BoundedJobOptions): Promise<BoundedJobResult> {
  const { file } = jobOnTopics(
    options.job ?? FRAUD_VELOCITY_JOB,
    options.name,
    options.input,
    { redis: options.redisUrl !== undefined, commitInterval: options.commitInterval, sourceTopics: options.sourceTopics, notKeyed: options.notKeyed },
    options.workDir,
  );
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  const runtime = startRuntime({
    env: {
      SLUICE_JOB_FILE: file,
      SLUICE_KAFKA_BROKERS: options.brokers.join(','),
      SLUICE_STATE_DIR: stateDir,
      SLUICE_END_MARKERS: 'true',
      ...(options.redisUrl === undefined ? {} : { SLUICE_REDIS_URL: options.redisUrl }),
      ...(options.kafkaSecretDir === undefined ? {} : { SLUICE_KAFKA_SECRET_DIR: options.kafkaSecretDir }),
    },
    ...(options.profileDir === undefined ? {} : { profileDir: options.profileDir }),
  });
  const progress = setInterval(() => {
    const commits = runtime.events.filter((e) => e.event === 'committed').length;
    options.log(`${options.name}: waiting for the job to read ${options.events} events to the end markers (${commits} transactions so far)`);
  }, 5000);
  try {
    const running = await runtime.waitFor('running', 120_000);
    const finished = await runtime.waitFor('finished', timeoutFor(options.events));
    await runtime.exitsCleanly(60_000);
    const seconds = (Date.parse(finished.time) - Date.parse(running.time)) / 1000;
    const recordsIn = Number(finished.recordsIn);
    return {
      recordsIn,
      recordsOut: Number(finished.recordsOut),
      commits: commitStats(runtime.events),
      seconds,
      eventsPerSecond: recordsIn / seconds,
      redis: options.redisUrl !== undefined,
      commitInterval: options.commitInterval ?? '100ms',
    };
  } finally {
    clearInterval(progress);
    if (runtime.child.exitCode === null) runtime.child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}
