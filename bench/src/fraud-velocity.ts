// `bench fraud-velocity`: in one run, preload a fresh topic, measure the client's consume-only ceiling, the fraud job exactly-once, and a filter/map job's latency.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KafkajsClient } from '@sluice/runtime';
import { consumeCeiling, type CeilingResult } from './ceiling.js';
import { benchEnvironment } from './environment.js';
import { runBoundedJob, type BoundedJobResult } from './fraud.js';
import { runLatency, type LatencyResult } from './latency.js';
import { preload, type PreloadResult } from './preload.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { deleteRunTopics } from './topics.js';
import { startRun, type RunHeader } from './run-header.js';

export interface BenchOptions {
  events: number;
  partitions: number;
  /** Use the test environment's Redis for the fraud job's feature-store sink; without it the Redis sink is left out. */
  redis: boolean;
  /** The fraud job's spec.delivery.commitInterval (such as 1s); the example's own (100 ms) when absent. */
  fraudCommitInterval?: string;
  latencyRate: number;
  latencySeconds: number;
  /** Folder for the job manifests and, with `profile`, the runtime's CPU profile. */
  workDir: string;
  profile: boolean;
  /** Leave the run's topics in Kafka afterwards (they are deleted by default). */
  keepTopics?: boolean;
  log: (line: string) => void;
}

export interface BenchResult extends RunHeader {
  bench: 'fraud-velocity';
  topic: string;
  partitions: number;
  preload: PreloadResult;
  ceiling: CeilingResult;
  /** The same read with the Kafka source's JSON decoding of each record: not the ceiling, the part of the gap that decoding is. */
  ceilingWithDecode: CeilingResult;
  fraud: BoundedJobResult;
  /** Fraud-job events/s over the consume-only ceiling. */
  ratio: number;
  latency: LatencyResult;
  profile?: { file: string; summary: ProfileSummary };
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const { log, partitions } = options;
  const header = startRun();
  const endpoints = await benchEnvironment(log);
  const brokers = endpoints.kafka.brokers;
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const topic = `${run}-transactions`;
  const admin = new KafkajsClient({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopics([{ topic, partitions }]);
  } finally {
    await admin.close();
  }

  try {
    log(`(a) preloading ${options.events} transactions into ${topic} (${partitions} partitions)`);
    const loaded = await preload({ brokers, topic, events: options.events, partitions, log });
    log(`    ${loaded.events} events in ${loaded.seconds.toFixed(1)}s`);

    log('(a) consume-only ceiling: kafkajs through the engine’s KafkaClient, read_committed, no processing');
    const ceiling = await consumeCeiling(brokers, topic, 120_000 + options.events);
    log(`    ${ceiling.records} records in ${ceiling.seconds.toFixed(1)}s`);
    log('    the same read with the source’s JSON decoding of each record, for comparison');
    const ceilingWithDecode = await consumeCeiling(brokers, topic, 120_000 + options.events, true);
    log(`    ${ceilingWithDecode.records} records in ${ceilingWithDecode.seconds.toFixed(1)}s`);

    log(`(b) fraud-velocity, exactly-once, Redis sink ${options.redis ? 'on' : 'off'}`);
    const profileDir = options.profile ? join(options.workDir, 'profile') : undefined;
    const fraud = await runBoundedJob({
      brokers,
      input: topic,
      name: `${run}-fraud`,
      redisUrl: options.redis ? endpoints.redis.url : undefined,
      workDir: options.workDir,
      events: loaded.events,
      log,
      ...(options.fraudCommitInterval === undefined ? {} : { commitInterval: options.fraudCommitInterval }),
      ...(profileDir === undefined ? {} : { profileDir }),
    });
    log(
      `    ${fraud.recordsIn} records in ${fraud.seconds.toFixed(1)}s, ${fraud.recordsOut} results, ${fraud.commits.commits} transactions carrying ${fraud.commits.changelogRecords} changelog records`,
    );

    log(`(c) latency: filter/map at ${options.latencyRate} events/s for ${options.latencySeconds}s, exactly-once`);
    const latency = await runLatency({
      brokers,
      name: `${run}-filter-map`,
      partitions,
      rate: options.latencyRate,
      seconds: options.latencySeconds,
      workDir: options.workDir,
      log,
    });

    const result: BenchResult = {
      bench: 'fraud-velocity',
      ...header.finish(),
      topic,
      partitions,
      preload: loaded,
      ceiling,
      ceilingWithDecode,
      fraud,
      ratio: fraud.eventsPerSecond / ceiling.eventsPerSecond,
      latency,
    };
    if (profileDir !== undefined) {
      // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): thread 0 runs the job, thread 1 tsx's module loader.
      const file = readdirSync(profileDir).find((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name));
      if (file === undefined)
        throw new Error(`the runtime wrote no main-thread .cpuprofile into ${profileDir}; it must exit normally for node --cpu-prof to write one`);
      result.profile = { file: join(profileDir, file), summary: summarizeProfile(join(profileDir, file)) };
    }
    return result;
  } finally {
    if (options.keepTopics !== true) log(`deleted the run's ${await deleteRunTopics(brokers, run)} topics (${run}-…)`);
  }
}
