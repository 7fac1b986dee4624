// `bench repartition`: in one run, on the same N transactions, the fraud-velocity job reading its topic as keyed by customer_id (one stage) and the same job told nothing of the topic's keying (two stages through its repartition topic); events/s of each, their ratio, and the windows each gave.
import { randomBytes } from 'node:crypto';
import { KafkajsClient } from '@sluice/runtime';
import { benchEnvironment } from './environment.js';
import { runBoundedJob, type BoundedJobResult } from './fraud.js';
import { preload, type PreloadResult } from './preload.js';
import { deleteRunTopics } from './topics.js';
import { startRun, type RunHeader } from './run-header.js';

export interface RepartitionBenchOptions {
  events: number;
  partitions: number;
  workDir: string;
  keepTopics?: boolean;
  log: (line: string) => void;
}

export interface RepartitionBenchResult extends RunHeader {
  bench: 'repartition';
  partitions: number;
  preload: PreloadResult;
  /** The fraud-velocity job as shipped (keyedBy customer_id: one stage), exactly-once, Redis sink on: the baseline. */
  keyed: BoundedJobResult;
  /** The same job without keyedBy: stage 1 writes every record to <app>-keyBy-0-repartition, stage 2 windows them. */
  repartitioned: BoundedJobResult;
  /** Repartitioned events/s over keyed events/s. */
  ratio: number;
}

export async function runRepartitionBench(options: RepartitionBenchOptions): Promise<RepartitionBenchResult> {
  const { log, partitions, events } = options;
  const header = startRun();
  const endpoints = await benchEnvironment(log);
  const brokers = endpoints.kafka.brokers;
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const transactions = `${run}-transactions`;
  const admin = new KafkajsClient({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopics([{ topic: transactions, partitions }]);
  } finally {
    await admin.close();
  }
  try {
    log(`preloading ${events} transactions keyed by customer_id into ${transactions} (${partitions} partitions)`);
    const loaded = await preload({ brokers, topic: transactions, events, partitions, log });
    const job = { brokers, input: transactions, redisUrl: endpoints.redis.url, workDir: options.workDir, events: loaded.events, log };

    log('baseline: fraud-velocity read as keyed by customer_id (one stage), exactly-once, Redis sink on');
    const keyed = await runBoundedJob({ ...job, name: `${run}-keyed` });
    log(`    ${keyed.recordsIn} records in ${keyed.seconds.toFixed(1)}s, ${keyed.recordsOut} results`);

    log('the same job not told how the topic is keyed: two stages through its repartition topic');
    const repartitioned = await runBoundedJob({ ...job, name: `${run}-repartitioned`, notKeyed: true });
    log(`    ${repartitioned.recordsIn} records in ${repartitioned.seconds.toFixed(1)}s, ${repartitioned.recordsOut} results`);

    return {
      bench: 'repartition',
      ...header.finish(),
      partitions,
      preload: loaded,
      keyed,
      repartitioned,
      ratio: repartitioned.eventsPerSecond / keyed.eventsPerSecond,
    };
  } finally {
    if (options.keepTopics !== true) log(`deleted the run's ${await deleteRunTopics(brokers, run)} topics (${run}-…)`);
  }
}
