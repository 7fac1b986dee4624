// The autoscaler loop beside its arithmetic (autoscaler.ts): samples a running job, writes the recommendation to status and, in mode apply, rescales through the scale subresource.
import type { Result } from '../machinery/reconciler.js';
import { recommend, type AutoscalerSettings, type Sample } from './autoscaler.js';
import { livePods, pollMs, type JobContext, type PartDeps } from './job-context.js';
import { StreamJobEventReason, statusOf } from './job-status.js';
import { desiredParallelism } from './spec.js';

/** How often an autoscaled job is sampled (records consumed, lag), and how far back its samples reach. */
export const autoscaleEveryMs = 2_000;
const autoscaleWindowMs = 30_000;
/** The least span of samples a recommendation is made from. */
const autoscaleMinSpanMs = 1_500;

export class AutoscalerLoop {
  /** Per autoscaled job (uid): its recent samples, and the recommendation that differs from its parallelism with since when. */
  readonly #samples = new Map<string, Sample[]>();
  readonly #recommended = new Map<string, { parallelism: number; since: number }>();

  constructor(private readonly deps: PartDeps) {}

  /** Drops the samples of a job that is gone. */
  forget(uid: string): void {
    this.#samples.delete(uid);
    this.#recommended.delete(uid);
  }

  /**
   * Samples the running job and writes the autoscaler's recommendation to status; in mode apply, once a different
   * parallelism has been recommended for stabilizationWindow (and, going down, scaleDownDelay has passed since the last
   * rescale), sets spec.parallelism through the scale subresource — the rescale then takes the savepoint path. A Result
   * when it rescaled.
   */
  async autoscale({ job, observation }: JobContext, settings: AutoscalerSettings): Promise<Result | undefined> {
    const uid = job.metadata.uid!;
    const pods = livePods(observation);
    const statuses = pods.map((pod) => pod.runtime);
    if (statuses.some((runtime) => runtime === undefined) || observation.lag === undefined) return undefined;
    const now = this.deps.clock.now().getTime();
    const sample: Sample = { at: now, consumed: statuses.reduce((sum, runtime) => sum + runtime!.recordsIn, 0), lag: observation.lag, pods: pods.length };
    const previous = this.#samples.get(uid) ?? [];
    // A restarted or rescaled pod counts from zero again: measure anew.
    const comparable = previous.length > 0 && previous.at(-1)!.consumed <= sample.consumed && previous.at(-1)!.pods === sample.pods;
    const samples = [...(comparable ? previous : []), sample].filter((kept) => now - kept.at <= autoscaleWindowMs);
    this.#samples.set(uid, samples);
    if (samples.length < 2 || now - samples[0]!.at < autoscaleMinSpanMs) return undefined;

    const status = statusOf(job).autoscaler ?? {};
    const current = desiredParallelism(job.spec);
    const partitions = statuses.reduce((sum, runtime) => sum + runtime!.partitions.length, 0);
    const recommendation = recommend(settings, samples, current, partitions, status.processingRate);
    const evaluated = {
      ...status,
      recommendedParallelism: recommendation.parallelism,
      ...(recommendation.processingRate === undefined ? {} : { processingRate: Math.round(recommendation.processingRate) }),
      lastEvaluationTime: new Date(now).toISOString(),
      reason: recommendation.reason,
    };
    if (settings.mode !== 'apply' || recommendation.parallelism === current) {
      this.#recommended.delete(uid);
      await this.deps.status.write(job, { autoscaler: evaluated }, []);
      return undefined;
    }
    const held = this.#recommended.get(uid);
    if (held?.parallelism !== recommendation.parallelism) this.#recommended.set(uid, { parallelism: recommendation.parallelism, since: now });
    const lastScale = status.lastScaleTime === undefined ? undefined : Date.parse(status.lastScaleTime);
    const stable = now - this.#recommended.get(uid)!.since >= settings.stabilizationMs;
    const downTooSoon = recommendation.parallelism < current && lastScale !== undefined && now - lastScale < settings.scaleDownDelayMs;
    if (!stable || downTooSoon) {
      await this.deps.status.write(job, { autoscaler: evaluated }, []);
      return undefined;
    }
    await this.deps.objects.scale(job, recommendation.parallelism);
    this.#samples.delete(uid);
    this.#recommended.delete(uid);
    await this.deps.status.write(job, { autoscaler: { ...evaluated, lastScaleTime: new Date(now).toISOString() } }, []);
    this.deps.status.event(job, 'Normal', StreamJobEventReason.Autoscaled, `parallelism ${current} → ${recommendation.parallelism}: ${recommendation.reason}`);
    return { requeueAfterMs: pollMs };
  }
}
