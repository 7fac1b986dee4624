// A local run's setup from streamctl run's flags: the input that replaces Kafka, the outputs, and notes on what is skipped.
import { createHash } from 'node:crypto';
import type { CompiledJob, JobSource } from '../compiler/job.js';
import { JsonLinesSource } from '../connectors/file/source.js';
import { GeneratorSource } from '../connectors/generator/source.js';
import { type GeneratorOptions, WORKLOADS, type WorkloadName } from '../connectors/generator/options.js';
import { openLocalSinks } from '../connectors/sink-kinds.js';
import type { Sink } from '../connectors/sink.js';
import type { Source } from '../connectors/source.js';
import { CompactLinesSink, StderrDeadLetters, jsonLinesOutput } from './outputs.js';
import { paced } from '../connectors/paced.js';
import type { RunOptions } from './run.js';
import { repartitionRefusal } from '../repartition/kafka.js';

export interface LocalRunFlags {
  /**
   * JSON-lines files to read instead of the job's sources: `NAME=FILE` per source (by spec.sources[].name), or a bare
   * `FILE` for the stream (spec.sources[0]).
   */
  input?: string | readonly string[];
  /** Generate this workload instead of reading the job's source; "" infers it from the source's topic. */
  generator?: string;
  /** Generator overrides: events a second (0 = as fast as possible), distinct keys, seed, total. */
  rate?: number;
  keys?: number;
  seed?: number;
  count?: number;
  /** Start the generated stream this many ms before now and catch up to now at full speed, then run at `rate`. */
  since?: number;
  /** A JSON-lines file for the results, "-" for stdout (the default). */
  output?: string;
  /** Results on stdout as compact `field=value` lines instead of JSON. */
  compact?: boolean;
  lateOutput?: string;
  deadLetterOutput?: string;
  /** A redis:// URL: the job's Redis sinks write there; without it they are skipped. */
  redis?: string;
  /** A postgres:// URL: the job's PostgreSQL sinks write there (the password from the URL or PGPASSWORD); without it they are skipped. */
  postgres?: string;
  stateDir?: string;
  savepointDir?: string;
  restore?: string;
  parallelism?: number;
}

/** The spec's identity in snapshots. */
export function specHash(spec: unknown): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** Builds the run; `note` receives one line for each part of the job that runs differently on a laptop. */
export function localRunOptions(job: CompiledJob, hash: string, flags: LocalRunFlags, note: (line: string) => void): RunOptions {
  const files = inputFiles(job, flags.input);
  const options: RunOptions = {
    job,
    specHash: hash,
    source: localSource(job, flags, files.get(job.source.name)),
    results: resultSinks(job, flags, note),
    parallelism: flags.parallelism ?? 1,
  };
  if (job.tables.length > 0)
    options.tables = new Map(job.tables.map(({ source, interval }) => [source.name, tableInput(source, files.get(source.name), interval === true)]));
  const refusal = repartitionRefusal(job);
  if (refusal !== undefined) note(`streamctl run repartitions in memory (where the input has several partitions); runtime pods refuse this job: ${refusal}`);
  const late = flags.lateOutput ?? job.lateOutput?.file;
  if (late !== undefined) options.late = jsonLinesOutput(late);
  else if (job.lateOutput?.topic !== undefined)
    note(`late records (spec.lateOutput topic ${job.lateOutput.topic}) are counted; pass --late-output FILE to keep them`);
  const deadLetters = flags.deadLetterOutput ?? job.deadLetter?.file;
  if (deadLetters !== undefined) options.deadLetters = jsonLinesOutput(deadLetters);
  else options.deadLetters = new StderrDeadLetters(10);
  for (const key of ['stateDir', 'savepointDir', 'restore'] as const) {
    if (flags[key] !== undefined) options[key] = flags[key];
  }
  return options;
}

/** A source name as the CRD spells it: what may stand before the = of --input NAME=FILE. */
const SOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** --input's files by source name: `NAME=FILE`, or a bare `FILE` for the stream. */
function inputFiles(job: CompiledJob, input: string | readonly string[] | undefined): Map<string, string> {
  const names = [job.source.name, ...job.tables.map((table) => table.source.name)];
  const files = new Map<string, string>();
  for (const flag of input === undefined ? [] : typeof input === 'string' ? [input] : input) {
    const at = flag.indexOf('=');
    const prefix = at > 0 ? flag.slice(0, at) : undefined;
    const named = prefix !== undefined && SOURCE_NAME.test(prefix);
    const name = named ? prefix : job.source.name;
    if (!names.includes(name)) throw new Error(`--input ${flag}: the job has no source ${name}; its sources are ${names.join(', ')} (--input NAME=FILE)`);
    if (files.has(name)) throw new Error(`--input ${flag}: source ${name} has a file already (${files.get(name)}); give one --input per source`);
    files.set(name, named ? flag.slice(at + 1) : flag);
  }
  return files;
}

/** A table's (or an interval join's other stream's) input: its --input file, or the file the source names; a Kafka one needs a file in streamctl run. */
function tableInput(source: JobSource, file: string | undefined, stream: boolean): Source {
  if (file !== undefined) return new JsonLinesSource(file);
  if (source.kind === 'file') return new JsonLinesSource(source.path);
  const topic = source.kind === 'kafka' ? `the Kafka topic ${source.topic}` : 'a generator';
  const lines = stream ? 'one record a line' : 'one {"key": ..., "value": {...}} a line';
  throw new Error(
    `the ${stream ? 'stream' : 'table'} ${source.name} reads ${topic}; streamctl run reads --input ${source.name}=FILE.jsonl in its place (${lines})`,
  );
}

function localSource(job: CompiledJob, flags: LocalRunFlags, input: string | undefined): Source {
  const source = job.source;
  const partitions = flags.parallelism ?? 1;
  if (input !== undefined) {
    if (flags.generator !== undefined) throw new Error('give --input or --generator, not both');
    if (partitions !== 1) throw new Error(`--parallelism ${partitions}: a JSON-lines input is one partition, so it runs as one task; leave --parallelism out`);
    return new JsonLinesSource(input);
  }
  if (flags.generator !== undefined || source.kind === 'generator') {
    const options: GeneratorOptions = source.kind === 'generator' ? { ...source.options } : { workload: workloadFor(job, flags.generator ?? '') };
    if (flags.generator !== undefined && flags.generator !== '') options.workload = workloadFor(job, flags.generator);
    for (const key of ['rate', 'keys', 'seed', 'count'] as const) {
      if (flags[key] !== undefined) options[key] = flags[key];
    }
    if (flags.parallelism !== undefined) options.partitions = flags.parallelism;
    if (flags.since !== undefined) options.start = Date.now() - flags.since;
    const rate = options.rate ?? 1000;
    // Generate in steps of about 10 ms of events, so paced results and progress flow rather than jump.
    options.batchSize = Math.max(1, Math.min(1024, Math.ceil(rate / 100)));
    const catchUp = flags.since === undefined ? 0 : Math.floor((flags.since / 1000) * rate);
    return paced(new GeneratorSource(options), rate, catchUp);
  }
  if (source.kind === 'file') return new JsonLinesSource(source.path);
  throw new Error(
    `spec.sources[0] reads the Kafka topic ${source.topic}; streamctl run reads --input FILE.jsonl or --generator ${inferWorkload(source.topic) ?? 'WORKLOAD'} in its place`,
  );
}

function inferWorkload(topic: string): WorkloadName | undefined {
  return Object.keys(WORKLOADS).find((workload) => topic.includes(workload)) as WorkloadName | undefined;
}

function workloadFor(job: CompiledJob, flag: string): WorkloadName {
  if (flag !== '') {
    if (!Object.hasOwn(WORKLOADS, flag)) throw new Error(`--generator ${flag}: no such workload; use one of ${Object.keys(WORKLOADS).join(', ')}`);
    return flag as WorkloadName;
  }
  const inferred = job.source.kind === 'kafka' ? inferWorkload(job.source.topic) : undefined;
  if (inferred === undefined) throw new Error(`--generator needs a workload for this job: --generator ${Object.keys(WORKLOADS).join('|')}`);
  return inferred;
}

function resultSinks(job: CompiledJob, flags: LocalRunFlags, note: (line: string) => void): Sink[] {
  const output = flags.output ?? '-';
  const results = output === '-' && flags.compact === true ? new CompactLinesSink() : jsonLinesOutput(output);
  return [results, ...openLocalSinks(job.sinks, { connections: { redisUrl: flags.redis, postgresUrl: flags.postgres }, output, note })];
}
