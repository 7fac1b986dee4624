// `bench enrichment`: in one run, the fraud-velocity job on N transactions (the baseline) and the enrichment job (customers table join, broadcast merchants join, window by customer) on the same topic.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { KafkajsClient, partitionOf } from '@sluice/runtime';
import { benchEnvironment } from './environment.js';
import { runBoundedJob, type BoundedJobResult } from './fraud.js';
import { ENRICHMENT_JOB } from './jobs.js';
import { preload, type PreloadResult } from './preload.js';
import { deleteRunTopics } from './topics.js';
import { startRun, type RunHeader } from './run-header.js';

/** The transactions workload's customers (C1…C10000) and merchants (M1…M5000). */
const CUSTOMERS = 10_000;
const MERCHANTS = 5000;
const TIERS = ['gold', 'silver', 'bronze'];

export interface EnrichmentBenchOptions {
  events: number;
  partitions: number;
  workDir: string;
  keepTopics?: boolean;
  log: (line: string) => void;
}

export interface EnrichmentBenchResult extends RunHeader {
  bench: 'enrichment';
  partitions: number;
  preload: PreloadResult;
  /** Rows written to the customers table (every tenth customer left out, so the left join also meets misses) and to the merchants table. */
  tables: { customers: number; merchants: number };
  /** The fraud-velocity job, exactly-once, Redis sink on: the baseline measured in this run. */
  fraud: BoundedJobResult;
  /** bench/jobs/enrichment-by-customer.yaml, exactly-once, on the same transactions. */
  enrichment: BoundedJobResult;
  /** Enrichment-job events/s over fraud-velocity events/s. */
  ratio: number;
}

/** Writes the two tables: customers keyed by customer_id on Kafka's partition for that key, merchants on one partition. */
async function writeTables(brokers: string[], customers: string, merchants: string, partitions: number): Promise<{ customers: number; merchants: number }> {
  const producer = new Kafka({ brokers, clientId: 'sluice-bench-tables', logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: false,
    idempotent: true,
  });
  await producer.connect();
  try {
    const rows: Message[] = [];
    for (let i = 1; i <= CUSTOMERS; i += 1) {
      if (i % 10 === 0) continue;
      const key = `C${i}`;
      rows.push({
        key,
        partition: partitionOf(key, partitions),
        value: JSON.stringify({ customer_id: key, tier: TIERS[i % TIERS.length], account_opened: '2020-01-01' }),
      });
    }
    const merchantRows: Message[] = Array.from({ length: MERCHANTS }, (_, i) => ({
      key: `M${i + 1}`,
      partition: 0,
      value: JSON.stringify({ merchant_id: `M${i + 1}`, risk_score: (i % 10) / 10 }),
    }));
    for (let i = 0; i < rows.length; i += 1000) await producer.send({ topic: customers, acks: -1, messages: rows.slice(i, i + 1000) });
    for (let i = 0; i < merchantRows.length; i += 1000) await producer.send({ topic: merchants, acks: -1, messages: merchantRows.slice(i, i + 1000) });
    return { customers: rows.length, merchants: merchantRows.length };
  } finally {
    await producer.disconnect();
  }
}

export async function runEnrichmentBench(options: EnrichmentBenchOptions): Promise<EnrichmentBenchResult> {
  const { log, partitions, events } = options;
  const header = startRun();
  const endpoints = await benchEnvironment(log);
  const brokers = endpoints.kafka.brokers;
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const transactions = `${run}-transactions`;
  const customers = `${run}-customers`;
  const merchants = `${run}-merchants`;
  const admin = new KafkajsClient({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopics([
      { topic: transactions, partitions },
      { topic: customers, partitions, config: { 'cleanup.policy': 'compact' } },
      { topic: merchants, partitions: 1, config: { 'cleanup.policy': 'compact' } },
    ]);
  } finally {
    await admin.close();
  }
  try {
    log(`preloading ${events} transactions into ${transactions} and the customers and merchants tables`);
    const loaded = await preload({ brokers, topic: transactions, events, partitions, log });
    const tables = await writeTables(brokers, customers, merchants, partitions);

    log('baseline: fraud-velocity, exactly-once, Redis sink on');
    const fraud = await runBoundedJob({
      brokers,
      input: transactions,
      name: `${run}-fraud`,
      redisUrl: endpoints.redis.url,
      workDir: options.workDir,
      events: loaded.events,
      log,
    });
    log(`    ${fraud.recordsIn} records in ${fraud.seconds.toFixed(1)}s, ${fraud.recordsOut} results`);

    log('enrichment (join customers, broadcast merchants, window by customer_id), exactly-once');
    const enrichment = await runBoundedJob({
      job: ENRICHMENT_JOB,
      sourceTopics: { customers, merchants },
      brokers,
      input: transactions,
      name: `${run}-enrichment`,
      redisUrl: undefined,
      workDir: options.workDir,
      events: loaded.events,
      log,
    });
    log(`    ${enrichment.recordsIn} records in ${enrichment.seconds.toFixed(1)}s, ${enrichment.recordsOut} windows`);

    return {
      bench: 'enrichment',
      ...header.finish(),
      partitions,
      preload: loaded,
      tables,
      fraud,
      enrichment,
      ratio: enrichment.eventsPerSecond / fraud.eventsPerSecond,
    };
  } finally {
    if (options.keepTopics !== true) log(`deleted the run's ${await deleteRunTopics(brokers, run)} topics (${run}-…)`);
  }
}
