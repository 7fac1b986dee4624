// `streamctl run <job.yaml>`: the embedded default — the job on this machine, reading a file or the generator instead of Kafka.
import { readFileSync } from 'node:fs';
import { RUNTIME_ENV, validateManifest } from '@sluice/crds';
import {
  compileJob,
  formatProblem,
  localRunOptions,
  parseDuration,
  plantFraudsters,
  progressLine,
  ProgressReporter,
  RateMeter,
  runJob,
  specHash,
  type RunOptions,
  summaryLine,
  type LocalRunFlags,
} from '@sluice/runtime';
import type { Argv, CommandModule } from 'yargs';
import { parseAllDocuments } from 'yaml';
import { messageOf } from '@sluice/crds/errors';
import { runDescription } from '../run-command.js';
import { everyRecordDeadLettered, FieldWatch } from './field-watch.js';
import { KeptDeadLetters, summaryLines, topColumnsOf, TopView, WindowLeaders } from './top-view.js';

interface RunArgs {
  job: string;
  /** Repeated --input gives a list. */
  input?: string | string[];
  output?: string;
  'late-output'?: string;
  'dead-letter-output'?: string;
  'state-dir'?: string;
  'savepoint-dir'?: string;
  restore?: string;
  parallelism?: number;
  generator?: string;
  rate?: number;
  keys?: number;
  seed?: number;
  count?: number;
  since?: string;
  duration?: string;
  redis?: string;
  postgres?: string;
  compact?: boolean;
  top?: number;
  'mask-key-file'?: string;
}

/** The one StreamJob in the file (other documents, such as its Topics, are passed over). */
function readJob(file: string): unknown {
  const jobs = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file} is not valid YAML: ${document.errors[0]!.message}`);
      return document.toJS() as unknown;
    })
    .filter((manifest) => (manifest as { kind?: unknown } | null)?.kind === 'StreamJob');
  if (jobs.length !== 1) throw new Error(`${file} holds ${jobs.length} StreamJobs; streamctl run takes a file with exactly one`);
  return jobs[0];
}

/** The job's problems as streamctl validate prints them; empty when it can run. */
function problemsOf(file: string, manifest: unknown): string[] {
  const { errors, manifest: stored } = validateManifest(manifest);
  if (errors.length > 0) return errors.map((error) => `${file}: ${error.path}: ${error.message}`);
  const compiled = compileJob(stored);
  return compiled.ok ? [] : compiled.problems.map((problem) => `${file}: ${formatProblem(problem)}`);
}

/** The key of the job's hmac and tokenise masks: the file's bytes exactly (as the Secret holds them), else SLUICE_MASK_KEY's. */
function maskKeyOf(args: RunArgs): Uint8Array | undefined {
  if (args['mask-key-file'] !== undefined) {
    try {
      return readFileSync(args['mask-key-file']);
    } catch (error) {
      throw new Error(`cannot read the mask key from --mask-key-file ${args['mask-key-file']}: ${messageOf(error)}`);
    }
  }
  const fromEnv = process.env[RUNTIME_ENV.maskKey];
  return fromEnv === undefined || fromEnv === '' ? undefined : Buffer.from(fromEnv, 'utf8');
}

function durationFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch {
    throw new Error(`--${name} ${JSON.stringify(value)} is not a duration such as 30s or 10m`);
  }
}

function flagsOf(args: RunArgs): LocalRunFlags {
  const flags: LocalRunFlags = {};
  const copy: [keyof LocalRunFlags, unknown][] = [
    ['input', args.input],
    ['output', args.output],
    ['lateOutput', args['late-output']],
    ['deadLetterOutput', args['dead-letter-output']],
    ['stateDir', args['state-dir']],
    ['savepointDir', args['savepoint-dir']],
    ['restore', args.restore],
    ['parallelism', args.parallelism],
    ['generator', args.generator],
    ['rate', args.rate],
    ['keys', args.keys],
    ['seed', args.seed],
    ['count', args.count],
    ['since', durationFlag('since', args.since)],
    ['redis', args.redis],
    ['postgres', args.postgres],
    ['compact', args.compact],
  ];
  for (const [key, value] of copy) if (value !== undefined) (flags as Record<string, unknown>)[key] = value;
  return flags;
}

/** The answer key of the demo: whom the transactions generator planted as fraudsters, with these flags. */
function plantedLine(args: RunArgs): string {
  const seed = args.seed ?? 1;
  const keys = args.keys ?? 10_000;
  const fraudsters = plantFraudsters(seed, keys).map(
    (fraudster) => `${fraudster.customerId} (${fraudster.burstSeconds} s bursts every ${fraudster.periodSeconds} s)`,
  );
  return `planted by the generator (seed ${seed}, ${keys} customers): ${fraudsters.join(', ')}`;
}

/** What --top changes: the results feed the table instead of stdout, dead letters are kept for the summary. */
interface TopRun {
  leaders: WindowLeaders;
  deadLetters: KeptDeadLetters | undefined;
  view: TopView;
}

function topRun(
  args: RunArgs,
  spec: unknown,
  deadLetterFile: string | undefined,
  options: RunOptions,
  out: NodeJS.WritableStream & { isTTY?: boolean },
): TopRun | undefined {
  if (args.top === undefined) return undefined;
  if (!Number.isInteger(args.top) || args.top < 1) throw new Error(`--top ${String(args.top)} is not a number of rows; use a whole number such as 10`);
  const columns = topColumnsOf(spec);
  if (columns === undefined) throw new Error('--top ranks the keys of a window by its count: the job needs a keyBy step and a window with aggregates');
  const leaders = new WindowLeaders(columns);
  // The table takes stdout's place; a --output file still gets every result.
  const [first, ...others] = options.results;
  options.results = args.output === undefined || args.output === '-' ? [leaders, ...others] : [first!, ...others, leaders];
  // Without a file, dead letters would be printed over the table: the summary lists the first reasons instead.
  const deadLetters = (args['dead-letter-output'] ?? deadLetterFile) === undefined ? new KeptDeadLetters() : undefined;
  if (deadLetters !== undefined) options.deadLetters = deadLetters;
  return { leaders, deadLetters, view: new TopView(out, leaders, args.top) };
}

/** Where a run writes: results or the --top view on stdout; notes, progress and the summary on stderr. */
export interface RunIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function run(args: RunArgs, io: RunIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const err = io.stderr;
  const manifest = readJob(args.job);
  const problems = problemsOf(args.job, manifest);
  if (problems.length > 0) {
    for (const problem of problems) err.write(`${problem}\n`);
    err.write(`${problems.length} problem(s) found; fix the fields named above and run again\n`);
    return 1;
  }
  const { manifest: stored } = validateManifest(manifest);
  const compiled = compileJob(stored, { secrets: { maskKey: maskKeyOf(args) } });
  if (!compiled.ok) {
    for (const problem of compiled.problems) err.write(`${args.job}: ${formatProblem(problem)}\n`);
    return 1;
  }
  const job = compiled.job;
  const stopAfter = durationFlag('duration', args.duration);
  const options = localRunOptions(job, specHash((stored as { spec: unknown }).spec), flagsOf(args), (line) => err.write(`note: ${line}\n`));
  const top = topRun(args, (stored as { spec: unknown }).spec, job.deadLetter?.file, options, io.stdout);
  const fields = FieldWatch.needed(job) ? new FieldWatch((stored as { spec: unknown }).spec) : undefined;
  if (fields !== undefined) options.source = fields.watch(options.source);
  const progress = new ProgressReporter(err);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  // Every Ctrl-C until the summary is printed only asks to stop: under `npm run`, one Ctrl-C arrives twice (from the
  // terminal and forwarded by npm), and a second one left to Node's default would kill the run before its summary.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = stopAfter === undefined ? undefined : setTimeout(onSignal, stopAfter);
  options.signal = stop.signal;
  options.beforeCommit = () => progress.clear();
  const meter = new RateMeter();
  let last = { job: job.name, counts: { recordsIn: 0, resultsOut: 0, late: 0, deadLettered: 0 }, eventsPerSecond: 0, watermark: Number.NEGATIVE_INFINITY };
  options.onCommit = (counts, seconds, watermark) => {
    last = { job: job.name, counts: { ...counts }, eventsPerSecond: meter.rate(counts.recordsIn, seconds), watermark };
    if (top === undefined) progress.show(progressLine(job.name, counts, last.eventsPerSecond, watermark));
    else top.view.show(last);
  };
  try {
    const summary = await runJob(options);
    progress.clear();
    if (top !== undefined) top.view.show(last, true);
    err.write(`${summaryLine(job.name, summary)}\n`);
    if (top !== undefined) {
      const deadLetters = { count: summary.deadLettered, reasons: top.deadLetters?.reasons ?? [] };
      for (const line of summaryLines(top.leaders, deadLetters)) err.write(`${line}\n`);
      if (args.generator === 'transactions' && job.source.kind !== 'generator') err.write(`${plantedLine(args)}\n`);
    }
    for (const warning of fields?.warnings() ?? []) err.write(`${warning}\n`);
    const failed = everyRecordDeadLettered(summary, args['dead-letter-output'] ?? job.deadLetter?.file);
    if (failed !== undefined) {
      err.write(`streamctl run: ${failed}\n`);
      return 1;
    }
    return 0;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <job>',
  describe: runDescription,
  builder: (yargs: Argv) =>
    yargs
      .positional('job', { type: 'string', demandOption: true, describe: 'the StreamJob manifest' })
      .option('input', {
        type: 'string',
        describe:
          'read JSON-lines files instead of the job sources: NAME=FILE per source (tables are read whole before the stream), or FILE for the first; one partition each, line order',
      })
      .option('output', { type: 'string', describe: 'write every result as a JSON line to this file, or - for stdout (the default)' })
      .option('late-output', { type: 'string', describe: 'write records too late for every window here (default: spec.lateOutput.file, else counted)' })
      .option('dead-letter-output', {
        type: 'string',
        describe: 'write dead letters {reason, record|raw} here (default: spec.deadLetter.file, else the first 10 reasons on stderr)',
      })
      .option('state-dir', { type: 'string', describe: 'the RocksDB state folder (default: a new temporary folder)' })
      .option('savepoint-dir', { type: 'string', describe: 'take a savepoint into this folder when the run ends' })
      .option('restore', { type: 'string', describe: 'start from this savepoint (or the newest snapshot of the job in this folder)' })
      .option('parallelism', { type: 'number', describe: 'partitions (tasks) of generated input; recorded in savepoints' })
      .option('generator', {
        type: 'string',
        describe: 'generate this workload (transactions, clickstream, logins) instead of reading Kafka; bare --generator infers it from the topic',
      })
      .option('rate', { type: 'number', describe: 'generated events per second (0: as fast as possible)' })
      .option('keys', { type: 'number', describe: 'distinct customers or users in generated input' })
      .option('seed', { type: 'number', describe: 'generator seed: the same seed gives the same events' })
      .option('count', { type: 'number', describe: 'stop generating after this many events' })
      .option('since', { type: 'string', describe: 'start generated event time this long ago (e.g. 10m), catching up at full speed' })
      .option('duration', { type: 'string', describe: 'stop cleanly after this long (e.g. 30s), as Ctrl-C does' })
      .option('redis', { type: 'string', describe: 'redis:// URL for the job Redis sinks (skipped without it)' })
      .option('postgres', {
        type: 'string',
        describe: 'postgres://user@host:port/database for the job PostgreSQL sinks, the password from PGPASSWORD (skipped without it)',
      })
      .option('mask-key-file', {
        type: 'string',
        describe: `the key of the job's hmac and tokenise mask fields: this file's bytes (default: the ${RUNTIME_ENV.maskKey} environment variable)`,
      })
      .option('compact', { type: 'boolean', describe: 'results on stdout as short field=value lines instead of JSON' })
      .option('top', {
        type: 'number',
        describe:
          'show the top N keys of the newest closed window instead of the results (a live table on a terminal, a line every 5 s otherwise); Ctrl-C prints the keys that stood out',
      })
      .example('$0 run examples/fraud-velocity/job.yaml --input examples/fraud-velocity/sample.jsonl', 'replay a file; results as JSON lines on stdout')
      .example(
        '$0 run examples/transaction-enrichment/job.yaml --input transactions=examples/transaction-enrichment/sample.jsonl --input customers=examples/transaction-enrichment/customers.jsonl --input merchants=examples/transaction-enrichment/merchants.jsonl',
        'a job with joins: one file per source',
      )
      .example('$0 run examples/fraud-velocity/job.yaml --generator --rate 2000 --since 10m --compact', 'generated transactions until Ctrl-C')
      .example(
        '$0 run examples/fraud-velocity/job.yaml --generator --rate 2000 --keys 10000 --since 20m --top 10',
        'the demo: the top customers of each closed window, live',
      ),
  handler: async (args) => {
    try {
      process.exitCode = await run(args);
    } catch (error) {
      process.stderr.write(`streamctl run: ${messageOf(error)}\n`);
      process.exitCode = 1;
    }
  },
};
