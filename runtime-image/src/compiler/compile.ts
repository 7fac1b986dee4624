// The job compiler: a StreamJob manifest (or its spec) → a CompiledJob, or every problem found, each naming its field and the fix.
import type { Dataflow } from '../dataflow/datastream.js';
import type { CompiledJob, EventTime, JobSink, JobSource } from './job.js';
import type { JoinSources } from './join.js';
import { maskContext, type MaskSecrets } from './mask.js';
import { compilePipeline } from './pipeline.js';
import { planRepartition } from '../repartition/plan.js';
import { JobSpecError, type JobProblem, Problems } from './problems.js';
import { compileSideOutput, compileSinks } from './sinks.js';
import { compileEventTime, compileSource, connectSchemaRegistry } from './source.js';
import { compileErasure } from '../erasure/spec.js';
import { compileRules, type SourceRules } from '../quality/rules.js';
import { duration, isObject, positiveDuration } from './values.js';

export type CompileResult = { ok: true; job: CompiledJob } | { ok: false; problems: JobProblem[] };

/** Given by a run (the runtime, streamctl run), not by a check (the controller, streamctl validate): the secrets it runs with. */
export interface CompileOptions {
  secrets?: MaskSecrets;
}

/** Compiles a StreamJob manifest: `kind: StreamJob` with metadata.name and spec. */
export function compileJob(manifest: unknown, options: CompileOptions = {}): CompileResult {
  if (!isObject(manifest))
    return { ok: false, problems: [{ path: '', message: 'a StreamJob manifest is an object with apiVersion, kind, metadata and spec' }] };
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : 'job';
  return compileJobSpec(manifest.spec, name, options);
}

/** Compiles a StreamJob's spec; every problem is collected, not just the first. */
export function compileJobSpec(spec: unknown, name: string, options: CompileOptions = {}): CompileResult {
  const problems = new Problems();
  if (!isObject(spec)) {
    problems.add('spec', 'is required: the sources, pipeline and sinks of the job');
    return { ok: false, problems: problems.list };
  }
  const { source, eventTime, others, eventTimes, rules } = compileSources(problems, spec.sources);
  const joins: JoinSources = { others, eventTimes, tables: [] };
  const dataflow = compilePipeline(problems, spec.pipeline, eventTime?.maxOutOfOrderness ?? 0, joins, maskContext(options.secrets));
  // After other problems are fixed: a join step with a mistake would read as not reading its table.
  if (problems.list.length === 0) requireJoined(problems, spec.sources, joins);
  const sinks = compileSinks(problems, spec.sinks);
  const lateOutput = compileSideOutput(problems, 'spec.lateOutput', spec.lateOutput);
  const deadLetter = compileSideOutput(problems, 'spec.deadLetter', spec.deadLetter);
  const erasure = compileErasure(problems, spec.erasure, spec.pipeline);
  const delivery = isObject(spec.delivery) ? spec.delivery : {};
  const commitInterval = duration(problems, 'spec.delivery.commitInterval', delivery.commitInterval, 100);
  const stateTtl = isObject(spec.state) ? positiveDuration(problems, 'spec.state.ttl', spec.state.ttl) : undefined;
  if (isObject(spec.checkpoints)) duration(problems, 'spec.checkpoints.interval', spec.checkpoints.interval);
  const repartition =
    problems.list.length === 0 && source !== undefined && dataflow !== undefined ? planRepartition(problems, spec.pipeline, source, dataflow) : undefined;
  if (problems.list.length > 0 || source === undefined || dataflow === undefined || commitInterval === undefined) {
    return { ok: false, problems: problems.list };
  }
  const job = assemble(name, source, eventTime, dataflow, sinks, lateOutput, deadLetter, commitInterval);
  job.tables = joins.tables;
  connectSchemaRegistry(problems, job, spec.connections);
  if (problems.list.length > 0) return { ok: false, problems: problems.list };
  if (stateTtl !== undefined) job.stateTtl = stateTtl;
  if (rules !== undefined) job.rules = rules;
  if (erasure !== undefined) job.erasure = erasure;
  if (repartition !== undefined) job.repartition = repartition;
  return { ok: true, job };
}

/** For the runtime, which refuses to start on a bad spec: the job, or a JobSpecError listing every problem. */
export function compileJobOrThrow(manifest: unknown, options: CompileOptions = {}): CompiledJob {
  const result = compileJob(manifest, options);
  if (!result.ok) throw new JobSpecError(result.problems);
  return result.job;
}

function assemble(
  name: string,
  source: JobSource,
  eventTime: EventTime | undefined,
  dataflow: Dataflow,
  sinks: JobSink[],
  lateOutput: CompiledJob['lateOutput'],
  deadLetter: CompiledJob['deadLetter'],
  commitInterval: number,
): CompiledJob {
  const job: CompiledJob = { name, source, tables: [], dataflow, sinks, commitInterval };
  if (eventTime !== undefined) job.eventTime = eventTime;
  if (lateOutput !== undefined) job.lateOutput = lateOutput;
  if (deadLetter !== undefined) job.deadLetter = deadLetter;
  return job;
}

interface CompiledSources {
  source?: JobSource;
  eventTime?: EventTime;
  /** The sources after the first, by name: the tables join steps read. */
  others: Map<string, JobSource>;
  /** The event time of those that set one (an interval join's other stream). */
  eventTimes: Map<string, EventTime>;
  /** The first source's data-quality rules. */
  rules?: SourceRules;
}

/** The pipeline reads the first source; the others feed join steps. */
function compileSources(problems: Problems, list: unknown): CompiledSources {
  const others = new Map<string, JobSource>();
  const eventTimes = new Map<string, EventTime>();
  if (!Array.isArray(list) || list.length === 0) {
    problems.add('spec.sources', 'name at least one source, for example { name: transactions, kafka: { topic: transactions } }');
    return { others, eventTimes };
  }
  const [first, ...rest] = list as unknown[];
  const names = new Set<string>();
  rest.forEach((spec, i) => {
    const path = `spec.sources[${i + 1}]`;
    if (!isObject(spec)) return problems.add(path, 'must be an object with a name and one of kafka or file');
    const source = compileSource(problems, path, spec);
    const eventTime = compileEventTime(problems, `${path}.eventTime`, spec.eventTime);
    if (spec.rules !== undefined)
      problems.notYet(
        `${path}.rules`,
        'rules on a joined source',
        'set rules on spec.sources[0], the source the pipeline reads, or check the joined rows in a filter step after the join',
      );
    if (source !== undefined) others.set(source.name, source);
    if (source !== undefined && eventTime !== undefined) eventTimes.set(source.name, eventTime);
  });
  for (const [i, spec] of (list as unknown[]).entries()) {
    const name = isObject(spec) ? spec.name : undefined;
    if (typeof name !== 'string') continue;
    if (names.has(name)) problems.add(`spec.sources[${i}].name`, `${JSON.stringify(name)} names an earlier source too; give each source its own name`);
    names.add(name);
  }
  if (!isObject(first)) {
    problems.add('spec.sources[0]', 'must be an object with a name and one of kafka, generator or file');
    return { others, eventTimes };
  }
  const source = compileSource(problems, 'spec.sources[0]', first);
  const eventTime = compileEventTime(problems, 'spec.sources[0].eventTime', first.eventTime);
  const rules = compileRules(problems, 'spec.sources[0].rules', first.rules, typeof first.name === 'string' ? first.name : 'source');
  const result: CompiledSources = { others, eventTimes };
  if (source !== undefined) result.source = source;
  if (rules !== undefined) result.rules = rules;
  if (eventTime !== undefined) result.eventTime = eventTime;
  return result;
}

/** A source no join step reads would be ignored without a word: refused instead. */
function requireJoined(problems: Problems, list: unknown, joins: JoinSources): void {
  if (!Array.isArray(list)) return;
  (list as unknown[]).forEach((spec, i) => {
    if (i === 0 || !isObject(spec) || typeof spec.name !== 'string' || !joins.others.has(spec.name)) return;
    if (!joins.tables.some((table) => table.source.name === spec.name)) {
      problems.add(
        `spec.sources[${i}]`,
        `${spec.name} is read by no join step; join with it ({ join: { with: ${spec.name}, type: table, leftKey: ... } }) or remove it`,
      );
    }
  });
}
