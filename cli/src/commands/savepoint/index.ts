// `streamctl savepoint <job> [--wait]`: ask the controller for a savepoint through spec.savepointTrigger, and wait for its answer.
import { randomBytes } from 'node:crypto';
import type { StreamJob } from '@sluice/crds';
import { connect } from '../../kube/cluster.js';
import { CommandError, guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs, WaitArgs } from '../../kube/options.js';
import { formatObject } from '../../kube/output.js';
import { condition } from '../../kube/rollout.js';
import { StreamJobs } from '../../kube/streamjobs.js';
import { timeoutMs, waitFor } from '../../kube/wait.js';

export type SavepointArgs = JobArgs & WaitArgs;

/** A trigger value never used before: when it was asked for, and a random suffix for two requests in the same millisecond. */
export function newTriggerNonce(now: Date = new Date()): string {
  return `${now.toISOString()}-${randomBytes(3).toString('hex')}`;
}

interface Request {
  nonce: string;
  /** The generation the trigger produced: a condition observed at it or later answers this request. */
  generation: number;
  requestedAt: Date;
}

/** The Savepoint condition's failure, if the controller set it after this request. */
function failureAfter(job: StreamJob, request: Request): string | undefined {
  const found = condition(job, 'Savepoint');
  if (found?.status !== 'False' || found.reason !== 'SavepointFailed') return undefined;
  const observedAfter =
    found.observedGeneration !== undefined
      ? found.observedGeneration >= request.generation
      : // lastTransitionTime has whole seconds, so the request's second counts as after it.
        Date.parse(found.lastTransitionTime) >= Math.floor(request.requestedAt.getTime() / 1000) * 1000;
  return observedAfter ? found.message : undefined;
}

type Answer = { taken: NonNullable<NonNullable<StreamJob['status']>['lastSavepoint']> } | { failed: string };

/** The controller's answer to the request, once status.savepointTriggerNonce names it. */
export function answer(job: StreamJob, request: Request): Answer | undefined {
  const status = job.status ?? {};
  if (status.savepointTriggerNonce !== request.nonce) return undefined;
  if (status.lastSavepoint?.triggerNonce === request.nonce) return { taken: status.lastSavepoint };
  return { failed: failureAfter(job, request) ?? 'the controller answered the trigger without recording a savepoint or a SavepointFailed condition' };
}

function progress(job: StreamJob, request: Request): string {
  const pending = job.status?.pendingSavepoint;
  if (pending?.triggerNonce === request.nonce) return `savepoint${pending.id === undefined ? '' : ` ${pending.id}`} in progress since ${pending.requestedAt}`;
  const failed = failureAfter(job, request);
  if (failed !== undefined) return `the last attempt failed (${failed}); the controller may retry`;
  if (job.status?.upgrade !== undefined) return `an upgrade is in progress (${job.status.upgrade.state}); the savepoint comes after it`;
  return 'the controller has not picked the request up yet';
}

export function savepoint(args: SavepointArgs, io: CommandIo): Promise<number> {
  return guarded('savepoint', io, async () => {
    const limit = args.wait ? timeoutMs(args.timeout) : 0;
    const jobs = new StreamJobs(connect(args));
    const { namespace } = jobs.cluster;
    const requestedAt = new Date();
    const nonce = newTriggerNonce(requestedAt);
    const patched = await jobs.patch(args.job, { spec: { savepointTrigger: nonce } });
    const request: Request = { nonce, generation: patched.metadata.generation ?? 0, requestedAt };
    if (!args.wait) {
      if (args.output === 'table')
        io.stdout.write(
          `savepoint requested for streamjob "${args.job}" (spec.savepointTrigger ${nonce}); follow it with streamctl savepoints ${args.job} -n ${namespace}, or pass --wait\n`,
        );
      else io.stdout.write(formatObject({ savepointTrigger: nonce }, args.output));
      return 0;
    }
    if (args.output === 'table') io.stderr.write(`savepoint requested for streamjob "${args.job}" (spec.savepointTrigger ${nonce})\n`);
    const result = await waitFor({
      what: `the savepoint of streamjob "${args.job}"`,
      timeoutMs: limit,
      timeoutText: args.timeout,
      read: () => jobs.read(args.job),
      check: (job) => answer(job, request),
      progress: (job) => progress(job, request),
      hint: `see kubectl describe streamjob ${args.job} -n ${namespace} (its Savepoint condition and events) and the Sluice controller's logs`,
      stderr: io.stderr,
    });
    if ('failed' in result) throw new CommandError(`the savepoint failed: ${result.failed}`);
    io.stdout.write(args.output === 'table' ? `savepoint taken: ${result.taken.location}\n` : formatObject(result.taken, args.output));
    return 0;
  });
}
