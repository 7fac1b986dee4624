// A running StreamJob's savepoints: on request (spec.savepointTrigger), on a period (spec.savepoints.interval), their retention, and the backoff after a failed one.
import type { PendingSavepoint, Savepoint, StreamJob, Upgrade } from '@sluice/crds';
import { messageOf } from '@sluice/runtime';
import { KeyBackoff } from '../machinery/backoff.js';
import { findCondition } from '../machinery/conditions.js';
import { done, type Result } from '../machinery/reconciler.js';
import { livePods, observeEveryMs, type JobContext, type PartDeps } from './job-context.js';
import { StreamJobCondition, StreamJobEventReason, StreamJobReason, generationOf, statusOf, type JobStatusFields } from './job-status.js';
import { retain } from './savepoint-retention.js';
import { savepointIntervalMs } from './spec.js';

/** After a failed savepoint the next attempt waits 5 s, doubling to 5 minutes, so the pods are not asked to stop in a tight loop. */
const savepointRetry = { baseMs: 5_000, maxMs: 5 * 60_000, jitter: 0.2 };

export class Savepoints {
  /** Per job (uid): consecutive savepoint failures, and when the next attempt may start. In memory: a restarted controller tries at once. */
  readonly #backoff = new KeyBackoff(savepointRetry);
  readonly #retryAt = new Map<string, number>();

  constructor(private readonly deps: PartDeps) {}

  /** Milliseconds until a failed savepoint may be tried again, or 0. */
  retryWait(job: StreamJob): number {
    return Math.max(0, (this.#retryAt.get(job.metadata.uid!) ?? 0) - this.deps.clock.now().getTime());
  }

  /** Counts a savepoint failure; the delay before the next attempt. */
  failed(job: StreamJob, trigger: Savepoint['trigger']): number {
    this.count(job, trigger, 'failed');
    const delay = Math.round(this.#backoff.next(job.metadata.uid!));
    this.#retryAt.set(job.metadata.uid!, this.deps.clock.now().getTime() + delay);
    return delay;
  }

  /** Counts a failed savepoint the user asked for: not retried (they ask again), the job looked at as usual. */
  private failedOnRequest(job: StreamJob): number {
    this.count(job, 'manual', 'failed');
    return observeEveryMs;
  }

  /** Counts a savepoint taken; the next failure backs off from the start again. */
  taken(job: StreamJob, trigger: Savepoint['trigger']): void {
    this.#backoff.forget(job.metadata.uid!);
    this.#retryAt.delete(job.metadata.uid!);
    this.count(job, trigger, 'taken');
  }

  /** Drops what it holds for a job that is gone. */
  forget(uid: string): void {
    this.#backoff.forget(uid);
    this.#retryAt.delete(uid);
  }

  private count(job: StreamJob, trigger: string, result: 'taken' | 'failed'): void {
    this.deps.metrics?.savepoints.inc({ namespace: job.metadata.namespace, job: job.metadata.name, trigger, result });
  }

  /**
   * A savepoint the user asked for by a new spec.savepointTrigger: taken, or refused while the job is suspended; undefined
   * when none is asked for.
   */
  async onRequest(context: JobContext, suspended: boolean): Promise<Result | undefined> {
    const { job } = context;
    const status = statusOf(job);
    const trigger = job.spec.savepointTrigger;
    if (trigger === undefined || trigger === status.savepointTriggerNonce) return undefined;
    if (suspended) {
      const refusal = `savepointTrigger ${trigger}: the job is suspended and processes nothing; its last savepoint is ${status.lastSavepoint?.location ?? 'none'}`;
      await this.deps.status.write(job, { savepointTriggerNonce: trigger }, [
        { type: StreamJobCondition.Savepoint, status: 'False', reason: StreamJobReason.SavepointFailed, message: refusal },
      ]);
      return done;
    }
    return this.begin(context, { trigger: 'manual', triggerNonce: trigger });
  }

  /** A periodic savepoint when spec.savepoints.interval has passed since the last one (and no failure is backing off); else when to look again. */
  async onPeriod(context: JobContext, lookAgainMs: number): Promise<Result> {
    const { job } = context;
    const status = statusOf(job);
    const interval = savepointIntervalMs(job.spec);
    if (interval === undefined) return { requeueAfterMs: lookAgainMs };
    const since =
      this.deps.clock.now().getTime() -
      new Date(status.lastSavepoint?.timestamp ?? findCondition(status.conditions, StreamJobCondition.Ready)?.lastTransitionTime ?? 0).getTime();
    if (since >= interval && this.retryWait(job) === 0) return this.begin(context, { trigger: 'periodic' });
    if (since >= interval) return { requeueAfterMs: this.retryWait(job) };
    return { requeueAfterMs: Math.min(lookAgainMs, interval - since) };
  }

  /** Puts the request into status (pendingSavepoint, with the id every pod writes under), then takes it. */
  private async begin(context: JobContext, request: Omit<PendingSavepoint, 'requestedAt' | 'id'>): Promise<Result> {
    const now = this.deps.clock.now();
    const pending: PendingSavepoint = { ...request, id: savepointId(request.trigger, generationOf(context.job), now), requestedAt: now.toISOString() };
    const updated = await this.deps.status.writeAndRead(context.job, { pendingSavepoint: pending }, []);
    return this.continue({ ...context, job: updated }, pending);
  }

  /** Asks every pod for its part of the pending savepoint; records it, or the failure. */
  async continue(context: JobContext, pending: PendingSavepoint): Promise<Result> {
    const { job, observation, token } = context;
    const pods = livePods(observation);
    const id = pending.id ?? savepointId(pending.trigger, generationOf(job), new Date(pending.requestedAt));
    const answers = await Promise.allSettled(
      pods.map((pod) => {
        if (pod.address === undefined) return Promise.reject(new Error('the pod has no address yet'));
        return this.deps.control.savepoint(pod.address, token, id);
      }),
    );
    const failures = answers.flatMap((answer, index) => (answer.status === 'rejected' ? [`${pods[index]!.name}: ${messageOf(answer.reason)}`] : []));
    const answered = pending.triggerNonce === undefined ? {} : { savepointTriggerNonce: pending.triggerNonce };
    if (failures.length > 0 || pods.length === 0) {
      const retryInMs = pending.trigger === 'manual' ? this.failedOnRequest(job) : this.failed(job, pending.trigger);
      const retry =
        pending.trigger === 'manual'
          ? 'change spec.savepointTrigger again (streamctl savepoint) to retry'
          : `Sluice tries again in ${Math.round(retryInMs / 1000)}s`;
      const message = `the ${pending.trigger} savepoint ${id} failed: ${failures.join('; ') || 'no runtime pod runs'}. The job goes on running; ${retry}`;
      await this.deps.status.write(job, { pendingSavepoint: null, ...answered }, [
        { type: StreamJobCondition.Savepoint, status: 'False', reason: StreamJobReason.SavepointFailed, message },
      ]);
      this.deps.status.event(job, 'Warning', StreamJobReason.SavepointFailed, message);
      return { requeueAfterMs: retryInMs };
    }
    this.taken(job, pending.trigger);
    const location = answers.map((answer) => (answer.status === 'fulfilled' ? answer.value.location : undefined)).find((value) => value !== undefined)!;
    const savepoint: Savepoint = {
      location,
      timestamp: this.deps.clock.now().toISOString(),
      trigger: pending.trigger,
      ...(pending.triggerNonce === undefined ? {} : { triggerNonce: pending.triggerNonce }),
      parallelism: pods.length,
      generation: observation.deployed?.generation ?? generationOf(job),
    };
    const kept = await this.record(context, savepoint, [observation.deployed?.restoreFrom]);
    const message = `${pending.trigger} savepoint ${location} taken by ${pods.length} pods`;
    await this.deps.status.write(job, { pendingSavepoint: null, ...answered, ...kept }, [
      { type: StreamJobCondition.Savepoint, status: 'True', reason: StreamJobReason.SavepointTaken, message },
    ]);
    this.deps.status.event(job, 'Normal', StreamJobReason.SavepointTaken, message);
    return { requeueAfterMs: observeEveryMs };
  }

  /** lastSavepoint and savepoints[] with the new one, after retention deleted what it no longer keeps (never what a deployment restores from). */
  async record({ job }: JobContext, savepoint: Savepoint, protectedLocations: readonly (string | undefined)[]): Promise<JobStatusFields> {
    const all = [savepoint, ...(statusOf(job).savepoints ?? []).filter((kept) => kept.location !== savepoint.location)];
    const { kept, removed } = retain(all, job.spec.savepoints?.retention, this.deps.clock.now(), protectedLocations);
    for (const old of removed) {
      await this.deps.savepointStorage.delete(job, old.location).then(
        () => this.deps.status.event(job, 'Normal', StreamJobEventReason.SavepointDeleted, `retention deleted savepoint ${old.location}`),
        (error: unknown) =>
          this.deps.log.warn({ err: error, location: old.location }, 'could not delete a savepoint retention removed; it stays in its storage'),
      );
    }
    return { lastSavepoint: savepoint, savepoints: kept };
  }
}

/** A savepoint id all pods of the job write under: what took it, the generation, and when. */
export function savepointId(trigger: string, generation: number, at: Date): string {
  return `${trigger}-g${generation}-${at.getTime().toString(36)}`;
}

/** What an upgrade's savepoint is recorded as: a suspend, a rescale, or an upgrade (a spec change, resume or restart). */
export function savepointTriggerOf(reason: Upgrade['reason']): Savepoint['trigger'] {
  return reason === 'Suspend' ? 'suspend' : reason === 'Rescale' ? 'rescale' : 'upgrade';
}
