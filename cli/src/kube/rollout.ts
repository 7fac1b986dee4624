// Changing a job's spec and waiting for the controller to carry it out: suspend, resume and scale share this.
import type { Condition, StreamJob } from '@sluice/crds';
import { connect } from './cluster.js';
import { CommandError, type CommandIo } from './io.js';
import type { JobArgs, WaitArgs } from './options.js';
import { formatObject } from './output.js';
import { StreamJobs } from './streamjobs.js';
import { timeoutMs, waitFor } from './wait.js';

export function condition(job: StreamJob, type: string): Condition | undefined {
  return job.status?.conditions?.find((candidate) => candidate.type === type);
}

/** Where the job stands, in a few words: `Upgrading (Savepointing, Rescale), 2 pods`. */
export function describeProgress(job: StreamJob): string {
  const status = job.status;
  if (status?.phase === undefined) return 'no status yet (is the Sluice controller running?)';
  const upgrade = status.upgrade === undefined ? '' : ` (${[status.upgrade.state, status.upgrade.reason].filter(Boolean).join(', ')})`;
  const pods = status.parallelism === undefined ? '' : `, ${status.parallelism} pod(s)`;
  const behind = (status.observedGeneration ?? 0) < (job.metadata.generation ?? 0) ? ', the controller has not seen the latest spec yet' : '';
  return `phase ${status.phase}${upgrade}${pods}${behind}`;
}

/**
 * True once the controller has acted on `generation` and `reached` holds with no upgrade in progress. A job that
 * failed, or rolled this generation back, at that generation ends the wait with the controller's reason.
 */
export function settled(job: StreamJob, generation: number, reached: (job: StreamJob) => boolean): boolean {
  const status = job.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) return false;
  if (status.rolledBackGeneration !== undefined && status.rolledBackGeneration >= generation) {
    const why = condition(job, 'Upgrade')?.message ?? 'it did not become ready within spec.readinessTimeout';
    throw new CommandError(`the controller rolled generation ${status.rolledBackGeneration} back to the last stable spec: ${why}`);
  }
  if (status.phase === 'Failed') {
    const why = condition(job, 'Ready')?.message ?? 'no Ready condition says why';
    throw new CommandError(`streamjob "${job.metadata.name}" failed: ${why}`);
  }
  return status.upgrade === undefined && reached(job);
}

export interface SpecChange extends JobArgs, WaitArgs {
  /** What the change asks for, in words: "suspend". */
  asked: string;
  /** What --wait waits for, in words: "phase Suspended". */
  awaited: string;
  reached: (job: StreamJob) => boolean;
  /** Why --wait would wait for nothing on this job (read after the change), or undefined to wait. */
  nothingToWaitFor?: (job: StreamJob) => string | undefined;
  /** Makes the change; the job is read again after it for the generation it produced. */
  apply: (jobs: StreamJobs) => Promise<unknown>;
}

/** Changes the spec, prints what it asked for, and with --wait waits until the controller reports it done. */
export async function changeSpec(change: SpecChange, io: CommandIo): Promise<number> {
  const limit = change.wait ? timeoutMs(change.timeout) : 0;
  const jobs = new StreamJobs(connect(change));
  const { namespace } = jobs.cluster;
  await change.apply(jobs);
  // Read after the change: the generation it produced (or the same one, when the spec already said so).
  const changed = await jobs.read(change.job);
  const generation = changed.metadata.generation ?? 0;
  if (change.output === 'table') io.stdout.write(`streamjob "${change.job}": ${change.asked} requested (generation ${generation})\n`);
  if (!change.wait) {
    if (change.output !== 'table') io.stdout.write(formatObject(changed.status ?? {}, change.output));
    else io.stdout.write(`follow it with streamctl status ${change.job} -n ${namespace}, or pass --wait\n`);
    return 0;
  }
  const skip = change.nothingToWaitFor?.(changed);
  if (skip !== undefined) {
    io.stderr.write(`not waiting: ${skip}\n`);
    if (change.output !== 'table') io.stdout.write(formatObject(changed.status ?? {}, change.output));
    return 0;
  }
  const done = await waitFor({
    what: `streamjob "${change.job}" to reach ${change.awaited}`,
    timeoutMs: limit,
    timeoutText: change.timeout,
    read: () => jobs.read(change.job),
    check: (job) => (settled(job, generation, change.reached) ? job : undefined),
    progress: describeProgress,
    hint: `see kubectl describe streamjob ${change.job} -n ${namespace} and the Sluice controller's logs`,
    stderr: io.stderr,
  });
  if (change.output === 'table') io.stdout.write(`streamjob "${change.job}": ${describeProgress(done)}\n`);
  else io.stdout.write(formatObject(done.status ?? {}, change.output));
  return 0;
}
