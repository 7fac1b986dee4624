// `bench sasl`: in one run, on the same N transactions, the fraud-velocity job on the broker's plaintext listener and on its SASL_SSL listener (TLS, SCRAM-SHA-512); events/s of each and their ratio: what encryption and authentication cost.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkajsClient } from '@sluice/runtime';
import { benchEnvironment } from './environment.js';
import { runBoundedJob, type BoundedJobResult } from './fraud.js';
import { preload, type PreloadResult } from './preload.js';
import { deleteRunTopics } from './topics.js';
import { startRun, type RunHeader } from './run-header.js';

export interface SaslBenchOptions {
  events: number;
  partitions: number;
  workDir: string;
  keepTopics?: boolean;
  log: (line: string) => void;
}

export interface SaslBenchResult extends RunHeader {
  bench: 'sasl';
  partitions: number;
  preload: PreloadResult;
  /** The fraud-velocity job on the plaintext listener, exactly-once, Redis sink on: the baseline. */
  plaintext: BoundedJobResult;
  /** The same job on the SASL_SSL listener: TLS with the environment's CA, SCRAM-SHA-512 as its admin user. */
  saslSsl: BoundedJobResult;
  /** SASL_SSL events/s over plaintext events/s. */
  ratio: number;
}

export async function runSaslBench(options: SaslBenchOptions): Promise<SaslBenchResult> {
  const { log, partitions, events } = options;
  const header = startRun();
  const endpoints = await benchEnvironment(log);
  const brokers = endpoints.kafka.brokers;
  const listener = endpoints.kafka.sasl;
  if (listener === undefined) throw new Error('the test environment has no SASL_SSL listener: restart it with npm run env:down && npm run env:up');
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const transactions = `${run}-transactions`;
  const admin = new KafkajsClient({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopics([{ topic: transactions, partitions }]);
  } finally {
    await admin.close();
  }
  // The Kafka Secret's keys, one file each, as a runtime pod has them mounted.
  const secretDir = join(options.workDir, `${run}-kafka-secret`);
  mkdirSync(secretDir, { recursive: true });
  const keys = {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.username': listener.admin,
    'sasl.password': listener.passwords[listener.admin]!,
    'ssl.ca': readFileSync(listener.ca, 'utf8'),
  };
  for (const [key, value] of Object.entries(keys)) writeFileSync(join(secretDir, key), value, { mode: 0o600 });
  try {
    log(`preloading ${events} transactions into ${transactions} (${partitions} partitions)`);
    const loaded = await preload({ brokers, topic: transactions, events, partitions, log });
    const job = { input: transactions, redisUrl: endpoints.redis.url, workDir: options.workDir, events: loaded.events, log };

    log('baseline: fraud-velocity on the plaintext listener, exactly-once, Redis sink on');
    const plaintext = await runBoundedJob({ ...job, brokers, name: `${run}-plaintext` });
    log(`    ${plaintext.recordsIn} records in ${plaintext.seconds.toFixed(1)}s, ${plaintext.recordsOut} results`);

    log(`the same job on the SASL_SSL listener (${listener.brokers.join(',')}), SCRAM-SHA-512 as ${listener.admin}`);
    const saslSsl = await runBoundedJob({ ...job, brokers: listener.brokers, kafkaSecretDir: secretDir, name: `${run}-sasl-ssl` });
    log(`    ${saslSsl.recordsIn} records in ${saslSsl.seconds.toFixed(1)}s, ${saslSsl.recordsOut} results`);

    return { bench: 'sasl', ...header.finish(), partitions, preload: loaded, plaintext, saslSsl, ratio: saslSsl.eventsPerSecond / plaintext.eventsPerSecond };
  } finally {
    if (options.keepTopics !== true) log(`deleted the run's ${await deleteRunTopics(brokers, run)} topics (${run}-…)`);
  }
}
