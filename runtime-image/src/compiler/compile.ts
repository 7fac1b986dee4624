// The job compiler: a StreamJob manifest (or its spec) → a CompiledJob, or every problem found, each naming its field and the fix.
import type { Dataflow } from '../dataflow/datastream.js';
import type { CompiledJob, EventTime, JobSink, JobSource } from './job.js';
import { compilePipeline } from './pipeline.js';
import { JobSpecError, type JobProblem, Problems } from './problems.js';
import { compileSideOutput, compileSinks } from './sinks.js';
import { compileEventTime, compileSource } from './source.js';
import { duration, isObject, positiveDuration } from './values.js';

export type CompileResult = { ok: true; job: CompiledJob } | { ok: false; problems: JobProblem[] };

/** Compiles a StreamJob manifest: `kind: StreamJob` with metadata.name and spec. */
export function compileJob(manifest: unknown): CompileResult {
  if (!isObject(manifest)) return { ok: false, problems: [{ path: '', message: 'a StreamJob manifest is an object with apiVersion, kind, metadata and spec' }] };
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : 'job';
  return compileJobSpec(manifest.spec, name);
}

/** Compiles a StreamJob's spec; every problem is collected, not just the first. */
export function compileJobSpec(spec: unknown, name: string): CompileResult {
  const problems = new Problems();
  if (!isObject(spec)) {
    problems.add('spec', 'is required: the sources, pipeline and sinks of the job');
    return { ok: false, problems: problems.list };
  }
  const { source, eventTime } = compileSources(problems, spec.sources);
  const dataflow = compilePipeline(problems, spec.pipeline, eventTime?.maxOutOfOrderness ?? 0);
  const sinks = compileSinks(problems, spec.sinks);
  const lateOutput = compileSideOutput(problems, 'spec.lateOutput', spec.lateOutput);
  const deadLetter = compileSideOutput(problems, 'spec.deadLetter', spec.deadLetter);
  const delivery = isObject(spec.delivery) ? spec.delivery : {};
  const commitInterval = duration(problems, 'spec.delivery.commitInterval', delivery.commitInterval, 100);
  const stateTtl = isObject(spec.state) ? positiveDuration(problems, 'spec.state.ttl', spec.state.ttl) : undefined;
  if (isObject(spec.checkpoints)) duration(problems, 'spec.checkpoints.interval', spec.checkpoints.interval);
  if (problems.list.length > 0 || source === undefined || dataflow === undefined || commitInterval === undefined) {
    return { ok: false, problems: problems.list };
  }
  const job = assemble(name, source, eventTime, dataflow, sinks, lateOutput, deadLetter, commitInterval);
  if (stateTtl !== undefined) job.stateTtl = stateTtl;
  return { ok: true, job };
}

/** For the runtime, which refuses to start on a bad spec: the job, or a JobSpecError listing every problem. */
export function compileJobOrThrow(manifest: unknown): CompiledJob {
  const result = compileJob(manifest);
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
  const job: CompiledJob = { name, source, dataflow, sinks, commitInterval };
  if (eventTime !== undefined) job.eventTime = eventTime;
  if (lateOutput !== undefined) job.lateOutput = lateOutput;
  if (deadLetter !== undefined) job.deadLetter = deadLetter;
  return job;
}

/** The pipeline reads the first source; the others only feed join steps, which the engine does not run yet. */
function compileSources(problems: Problems, list: unknown): { source?: JobSource; eventTime?: EventTime } {
  if (!Array.isArray(list) || list.length === 0) {
    problems.add('spec.sources', 'name at least one source, for example { name: transactions, kafka: { topic: transactions } }');
    return {};
  }
  const [first] = list as unknown[];
  if (list.length > 1) problems.notYet('spec.sources[1]', 'a second source (the other side of a join)', 'keep one source for now');
  if (!isObject(first)) {
    problems.add('spec.sources[0]', 'must be an object with a name and one of kafka, generator or file');
    return {};
  }
  const source = compileSource(problems, 'spec.sources[0]', first);
  const eventTime = compileEventTime(problems, 'spec.sources[0].eventTime', first.eventTime);
  const result: { source?: JobSource; eventTime?: EventTime } = {};
  if (source !== undefined) result.source = source;
  if (eventTime !== undefined) result.eventTime = eventTime;
  return result;
}
