// `npm run bench -- fraud-velocity [--events N] [--partitions 6] …`: the benchmark harness's command line.
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runEnrichmentBench } from './enrichment.js';
import { runPatternBench } from './failed-logins.js';
import { runBench } from './fraud-velocity.js';
import { enrichmentTable, patternTable, repartitionTable, saslTable, table, writeResult } from './report.js';
import { repoRoot } from './runtime-process.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

await yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .command(
    'fraud-velocity',
    'preload N transactions; measure the consume-only ceiling, the fraud-velocity job exactly-once, and a filter/map job’s latency',
    (y) =>
      y
        .option('events', { type: 'number', default: 2_000_000, describe: 'transactions to preload and process' })
        .option('partitions', { type: 'number', default: 6, describe: 'partitions of the input topic' })
        .option('redis', {
          type: 'boolean',
          default: true,
          describe: 'the fraud job’s Redis feature-store sink on the test environment’s Redis (--no-redis leaves it out)',
        })
        .option('commit-interval', { type: 'string', describe: 'the fraud job’s spec.delivery.commitInterval (default: the example’s, 100ms)' })
        .option('latency-rate', { type: 'number', default: 10_000, describe: 'events/s of the paced producer in the latency phase' })
        .option('latency-seconds', { type: 'number', default: 30, describe: 'seconds of latency measured after the warm-up' })
        .option('profile', { type: 'boolean', default: false, describe: 'run the fraud job under node --cpu-prof and print where its time goes' })
        .option('keep-topics', { type: 'boolean', default: false, describe: 'leave the run’s topics in Kafka (deleted by default)' })
        .option('results', {
          type: 'string',
          default: join(repoRoot, 'bench', 'results'),
          describe: 'folder for the JSON result, the job manifests and the profile',
        }),
    async (argv) => {
      const startedAt = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      const result = await runBench({
        events: argv.events,
        partitions: argv.partitions,
        redis: argv.redis,
        ...(argv['commit-interval'] === undefined ? {} : { fraudCommitInterval: argv['commit-interval'] }),
        latencyRate: argv['latency-rate'],
        latencySeconds: argv['latency-seconds'],
        profile: argv.profile,
        keepTopics: argv['keep-topics'],
        workDir: join(argv.results, startedAt),
        log,
      });
      process.stdout.write(`${table(result)}\n`);
      process.stdout.write(`result: ${writeResult(argv.results, result)}\n`);
    },
  )
  .command(
    'failed-logins',
    'preload N transactions and N sign-ins keyed by ip; run the fraud-velocity job (the baseline) and the failed-logins pattern job, exactly-once, and print their events/s and ratio',
    (y) =>
      y
        .option('events', { type: 'number', default: 500_000, describe: 'transactions and sign-ins to preload and process (each)' })
        .option('partitions', { type: 'number', default: 6, describe: 'partitions of each input topic' })
        .option('latency-rate', {
          type: 'number',
          default: 1000,
          describe: 'sign-ins/s of the paced producer in the latency phase (1000/s keeps event time at wall-clock pace)',
        })
        .option('latency-seconds', { type: 'number', default: 30, describe: 'seconds of latency measured after the warm-up' })
        .option('keep-topics', { type: 'boolean', default: false, describe: 'leave the run’s topics in Kafka (deleted by default)' })
        .option('results', { type: 'string', default: join(repoRoot, 'bench', 'results'), describe: 'folder for the JSON result and the job manifests' }),
    async (argv) => {
      const startedAt = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      const result = await runPatternBench({
        events: argv.events,
        partitions: argv.partitions,
        latencyRate: argv['latency-rate'],
        latencySeconds: argv['latency-seconds'],
        keepTopics: argv['keep-topics'],
        workDir: join(argv.results, startedAt),
        log,
      });
      process.stdout.write(`${patternTable(result)}\n`);
      process.stdout.write(`result: ${writeResult(argv.results, result)}\n`);
    },
  )
  .command(
    'enrichment',
    'preload N transactions, a customers table and a merchants table; run the fraud-velocity job (the baseline) and the enrichment job (join customers, broadcast merchants, window by customer_id), exactly-once, and print their events/s and ratio',
    (y) =>
      y
        .option('events', { type: 'number', default: 500_000, describe: 'transactions to preload and process' })
        .option('partitions', { type: 'number', default: 6, describe: 'partitions of the transactions and customers topics' })
        .option('keep-topics', { type: 'boolean', default: false, describe: 'leave the run’s topics in Kafka (deleted by default)' })
        .option('results', { type: 'string', default: join(repoRoot, 'bench', 'results'), describe: 'folder for the JSON result and the job manifests' }),
    async (argv) => {
      const startedAt = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      const result = await runEnrichmentBench({
        events: argv.events,
        partitions: argv.partitions,
        keepTopics: argv['keep-topics'],
        workDir: join(argv.results, startedAt),
        log,
      });
      process.stdout.write(`${enrichmentTable(result)}\n`);
      process.stdout.write(`result: ${writeResult(argv.results, result)}\n`);
    },
  )
  .command(
    'repartition',
    'preload N transactions keyed by customer_id; run the fraud-velocity job as shipped (one stage) and the same job not told the keying (two stages through its repartition topic), exactly-once, and print their events/s and ratio',
    (y) =>
      y
        .option('events', { type: 'number', default: 200_000, describe: 'transactions to preload and process' })
        .option('partitions', { type: 'number', default: 6, describe: 'partitions of the input topic (and of the repartition topic)' })
        .option('keep-topics', { type: 'boolean', default: false, describe: 'leave the run’s topics in Kafka (deleted by default)' })
        .option('results', { type: 'string', default: join(repoRoot, 'bench', 'results'), describe: 'folder for the JSON result and the job manifests' }),
    async (argv) => {
      const startedAt = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      const { runRepartitionBench } = await import('./repartition.js');
      const result = await runRepartitionBench({
        events: argv.events,
        partitions: argv.partitions,
        keepTopics: argv['keep-topics'],
        workDir: join(argv.results, startedAt),
        log,
      });
      process.stdout.write(`${repartitionTable(result)}\n`);
      process.stdout.write(`result: ${writeResult(argv.results, result)}\n`);
    },
  )
  .command(
    'sasl',
    'preload N transactions; run the fraud-velocity job on the plaintext listener and the same job on the SASL_SSL listener (TLS, SCRAM-SHA-512), exactly-once, and print their events/s and ratio',
    (y) =>
      y
        .option('events', { type: 'number', default: 200_000, describe: 'transactions to preload and process' })
        .option('partitions', { type: 'number', default: 6, describe: 'partitions of the input topic' })
        .option('keep-topics', { type: 'boolean', default: false, describe: 'leave the run’s topics in Kafka (deleted by default)' })
        .option('results', { type: 'string', default: join(repoRoot, 'bench', 'results'), describe: 'folder for the JSON result and the job manifests' }),
    async (argv) => {
      const startedAt = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      const { runSaslBench } = await import('./sasl.js');
      const result = await runSaslBench({
        events: argv.events,
        partitions: argv.partitions,
        keepTopics: argv['keep-topics'],
        workDir: join(argv.results, startedAt),
        log,
      });
      process.stdout.write(`${saslTable(result)}\n`);
      process.stdout.write(`result: ${writeResult(argv.results, result)}\n`);
    },
  )
  .command(
    'formats',
    'decode and encode 100,000 transactions as json, avro and json-schema (the Confluent wire format) in the same run, and print records/s of each',
    (y) => y,
    async () => {
      const { formatsTable, runFormatsBench } = await import('./formats.js');
      process.stdout.write(`${formatsTable(await runFormatsBench())}\n`);
    },
  )
  .command(
    'sinks',
    'write the same window results through the Redis, the PostgreSQL and the S3 lake (Parquet, JSON lines) sinks, committing as the fraud job does, and print rows/s of each',
    (y) =>
      y
        .option('rows', { type: 'number', default: 100_000, describe: 'window results per sink and round' })
        .option('per-commit', { type: 'number', default: 1000, describe: 'results per commit' })
        .option('rounds', { type: 'number', default: 3, describe: 'rounds, the sinks interleaved; the best of each is shown' }),
    async (argv) => {
      const { runSinksBench, sinksTable } = await import('./sinks.js');
      const options = { rows: argv.rows, perCommit: argv['per-commit'], rounds: argv.rounds };
      process.stdout.write(`${sinksTable(options, await runSinksBench({ ...options, log }))}\n`);
    },
  )
  .command(
    'score',
    'run the same transactions through the score step (batchSize 1, then 100) against a local model, and through the job without the step, and print records/s of each',
    (y) =>
      y
        .option('records', { type: 'number', default: 20_000, describe: 'transactions per job and round' })
        .option('rounds', { type: 'number', default: 3, describe: 'rounds, the jobs interleaved; the best of each is shown' })
        .option('model-delay', { type: 'number', default: 0, describe: 'milliseconds the model takes per call' }),
    async (argv) => {
      const { runScoreBench, scoreTable } = await import('./score.js');
      const options = { records: argv.records, rounds: argv.rounds, modelDelay: argv['model-delay'] };
      process.stdout.write(`${scoreTable(options, await runScoreBench({ ...options, log }))}\n`);
    },
  )
  .demandCommand(1, 'name a benchmark: fraud-velocity, failed-logins, enrichment, formats, sinks or score')
  .strict()
  .help()
  .parseAsync();
