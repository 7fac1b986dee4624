// `bench failed-logins`: in one run, the fraud-velocity job on N transactions (the baseline) and the failed-logins pattern job on N sign-ins keyed by ip; events/s of each and their ratio.
import { randomBytes } from 'node:crypto';
import { KafkajsClient } from '@sluice/runtime';
import { benchEnvironment } from './environment.js';
import { runBoundedJob, type BoundedJobResult } from './fraud.js';
import { FAILED_LOGINS_JOB, FAILED_LOGINS_LATENCY_JOB } from './jobs.js';
import { runLatency, type LatencyResult } from './latency.js';
import { LOGINS_BY_IP, preload, type PreloadResult } from './preload.js';
import { deleteRunTopics } from './topics.js';
import { startRun, type RunHeader } from './run-header.js';

export interface PatternBenchOptions {
  /** Transactions for the baseline and sign-ins for the pattern job: the same number of each. */
  events: number;
  partitions: number;
  /** Sign-ins/s of the paced producer in the latency phase, and seconds measured after the warm-up. */
  latencyRate: number;
  latencySeconds: number;
  workDir: string;
  keepTopics?: boolean;
  log: (line: string) => void;
}

export interface PatternBenchResult extends RunHeader {
  bench: 'failed-logins';
  partitions: number;
  preload: { transactions: PreloadResult; logins: PreloadResult };
  /** The fraud-velocity job, exactly-once, Redis sink on: the baseline measured in this run. */
  fraud: BoundedJobResult;
  /** The failed-logins pattern job, exactly-once, Redis sink on, over the sign-ins topic keyed by ip. */
  pattern: BoundedJobResult;
  /** Pattern-job events/s over fraud-velocity events/s. */
  ratio: number;
  /** Sign-in to alert: the pattern job fed by a paced producer, the alert's `produced_at` is its success's send time. */
  latency: LatencyResult;
}

export async function runPatternBench(options: PatternBenchOptions): Promise<PatternBenchResult> {
  const { log, partitions, events } = options;
  const header = startRun();
  const endpoints = await benchEnvironment(log);
  const brokers = endpoints.kafka.brokers;
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const transactions = `${run}-transactions`;
  const logins = `${run}-logins`;
  const admin = new KafkajsClient({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopics([transactions, logins].map((topic) => ({ topic, partitions })));
  } finally {
    await admin.close();
  }
  try {
    log(`preloading ${events} transactions into ${transactions} and ${events} sign-ins keyed by ip into ${logins} (${partitions} partitions each)`);
    const loadedTransactions = await preload({ brokers, topic: transactions, events, partitions, log });
    const loadedLogins = await preload({ brokers, topic: logins, events, partitions, workload: LOGINS_BY_IP, log });

    log('baseline: fraud-velocity, exactly-once, Redis sink on');
    const fraud = await runBoundedJob({
      brokers,
      input: transactions,
      name: `${run}-fraud`,
      redisUrl: endpoints.redis.url,
      workDir: options.workDir,
      events: loadedTransactions.events,
      log,
    });
    log(`    ${fraud.recordsIn} records in ${fraud.seconds.toFixed(1)}s, ${fraud.recordsOut} results`);

    log('failed-logins pattern, exactly-once, Redis sink on');
    const pattern = await runBoundedJob({
      job: FAILED_LOGINS_JOB,
      brokers,
      input: logins,
      name: `${run}-failed-logins`,
      redisUrl: endpoints.redis.url,
      workDir: options.workDir,
      events: loadedLogins.events,
      log,
    });
    log(`    ${pattern.recordsIn} records in ${pattern.seconds.toFixed(1)}s, ${pattern.recordsOut} alerts`);

    log(`latency: failed-logins at ${options.latencyRate} sign-ins/s for ${options.latencySeconds}s, exactly-once`);
    const latency = await runLatency({
      brokers,
      name: `${run}-failed-logins-latency`,
      partitions,
      rate: options.latencyRate,
      seconds: options.latencySeconds,
      workDir: options.workDir,
      job: FAILED_LOGINS_LATENCY_JOB,
      workload: LOGINS_BY_IP,
      log,
    });

    return {
      bench: 'failed-logins',
      ...header.finish(),
      partitions,
      preload: { transactions: loadedTransactions, logins: loadedLogins },
      fraud,
      pattern,
      ratio: pattern.eventsPerSecond / fraud.eventsPerSecond,
      latency,
    };
  } finally {
    if (options.keepTopics !== true) log(`deleted the run's ${await deleteRunTopics(brokers, run)} topics (${run}-…)`);
  }
}
