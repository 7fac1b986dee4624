// `streamctl status <job>`: what the controller reports about a StreamJob — phase, pods, lag, savepoints, upgrade, conditions.
import type { StreamJob } from '@sluice/crds';
import { connect } from '../../kube/cluster.js';
import { guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs } from '../../kube/options.js';
import { age, formatFields, formatObject, formatTable, timeAndAge } from '../../kube/output.js';
import { StreamJobs } from '../../kube/streamjobs.js';

const none = '-';

function parallelism(job: StreamJob): string {
  const running = job.status?.parallelism;
  const wanted = job.spec.parallelism;
  const suspended = job.spec.suspend === true ? ' (suspended)' : '';
  return `${running ?? none} running, ${wanted ?? none} in spec${suspended}`;
}

function generation(job: StreamJob): string {
  const observed = job.status?.observedGeneration;
  const current = job.metadata.generation;
  const behind = observed === undefined || current === undefined || observed >= current ? '' : ' (the controller has not acted on the latest spec yet)';
  return `observed ${observed ?? none} of ${current ?? none}${behind}`;
}

function lastSavepoint(job: StreamJob, now: Date): string {
  const savepoint = job.status?.lastSavepoint;
  if (savepoint === undefined) return 'none yet';
  return `${savepoint.location}\ntaken ${timeAndAge(savepoint.timestamp, now)}, trigger ${savepoint.trigger}`;
}

function upgrade(job: StreamJob, now: Date): string {
  const upgrade = job.status?.upgrade;
  if (upgrade === undefined) return 'none';
  const from = upgrade.fromGeneration === undefined ? '' : `from generation ${upgrade.fromGeneration} `;
  const started = upgrade.startedAt === undefined ? '' : `, started ${age(upgrade.startedAt, now)} ago`;
  return `${upgrade.state}, reason ${upgrade.reason ?? none}, ${from}to generation ${upgrade.targetGeneration}${started}`;
}

function pendingSavepoint(job: StreamJob, now: Date): string {
  const pending = job.status?.pendingSavepoint;
  if (pending === undefined) return 'none';
  return `${pending.trigger}, requested ${timeAndAge(pending.requestedAt, now)}${pending.id === undefined ? '' : `, id ${pending.id}`}`;
}

function autoscaler(job: StreamJob): [string, string][] {
  const autoscaler = job.status?.autoscaler;
  if (autoscaler?.recommendedParallelism === undefined) return [];
  return [['Autoscaler', `recommends ${autoscaler.recommendedParallelism} pod(s)${autoscaler.reason === undefined ? '' : `: ${autoscaler.reason}`}`]];
}

function conditions(job: StreamJob, now: Date): string {
  const rows = (job.status?.conditions ?? []).map((found) => [found.type, found.status, found.reason, age(found.lastTransitionTime, now), found.message]);
  return rows.length === 0 ? '\nConditions: none yet\n' : `\nConditions:\n${formatTable(['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], rows)}`;
}

/** The status as people read it: one line a field, then the conditions as a table. */
export function formatStatus(job: StreamJob, now: Date = new Date()): string {
  const status = job.status ?? {};
  const fields = formatFields([
    ['StreamJob', `${job.metadata.name} (namespace ${job.metadata.namespace})`],
    ['Phase', status.phase ?? 'unknown: no status yet (is the Sluice controller running?)'],
    ['Parallelism', parallelism(job)],
    ['Lag', status.lag === undefined ? none : `${status.lag} records`],
    ['Watermark', status.watermark === undefined ? none : timeAndAge(status.watermark, now)],
    ['Last savepoint', lastSavepoint(job, now)],
    ['Upgrade', upgrade(job, now)],
    ['Pending savepoint', pendingSavepoint(job, now)],
    ...autoscaler(job),
    ['Generation', generation(job)],
  ]);
  return `${fields}${conditions(job, now)}`;
}

export function status(args: JobArgs, io: CommandIo): Promise<number> {
  return guarded('status', io, async () => {
    const job = await new StreamJobs(connect(args)).read(args.job);
    io.stdout.write(args.output === 'table' ? formatStatus(job) : formatObject(job.status ?? {}, args.output));
    return 0;
  });
}
