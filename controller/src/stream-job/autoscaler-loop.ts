// The autoscaler loop beside its arithmetic (autoscaler.ts): samples a running job, writes the recommendation and its samples to status and, in mode apply, rescales through the scale subresource.
import type { AutoscalerStatus } from '@sluice/crds';
import type { Result } from '../machinery/reconciler.js';
import { recommend, type AutoscalerSettings, type Sample } from './autoscaler.js';
import { livePods, pollMs, type JobContext, type PartDeps } from './job-context.js';
import { StreamJobEventReason, statusOf } from './job-status.js';
import { desiredParallelism } from './spec.js';

/** How often an autoscaled job is sampled (records consumed, lag), and how far back its samples reach. */
export const autoscaleEveryMs = 2_000;
const autoscaleWindowMs = 30_000;
/** The most samples status keeps (the CRD's maxItems): a window of looks every autoscaleEveryMs, and no more when watch events bring the job back more often. */
export const maxSamples = 16;
/** The least span of samples a recommendation is made from. */
const autoscaleMinSpanMs = 1_500;

type StoredSample = NonNullable<AutoscalerStatus['samples']>[number];

/**
 * Holds no memory of its own: the samples and since when the recommendation stands live in status.autoscaler, which
 * is written at each evaluation anyway, so a new leader (or a restarted controller) continues the same decision instead
 * of measuring and waiting out stabilizationWindow again. A ConfigMap would cost a second write per look and its own RBAC.
 */
export class AutoscalerLoop {
  constructor(private readonly deps: PartDeps) {}

  /**
   * Samples the running job and writes the autoscaler's recommendation to status; in mode apply, once a different
   * parallelism has been recommended for stabilizationWindow (and, going down, scaleDownDelay has passed since the last
   * rescale), sets spec.parallelism through the scale subresource — the rescale then takes the savepoint path. A Result
   * when it rescaled.
   */
  async autoscale({ job, observation }: JobContext, settings: AutoscalerSettings): Promise<Result | undefined> {
    const pods = livePods(observation);
    const statuses = pods.map((pod) => pod.runtime);
    if (statuses.some((runtime) => runtime === undefined) || observation.lag === undefined) return undefined;
    const now = this.deps.clock.now().getTime();
    const status = statusOf(job).autoscaler ?? {};
    const sample: Sample = { at: now, consumed: statuses.reduce((sum, runtime) => sum + runtime!.recordsIn, 0), lag: observation.lag, pods: pods.length };
    const previous = (status.samples ?? []).map(fromStatus);
    // A restarted or rescaled pod counts from zero again: measure anew.
    const comparable = previous.length > 0 && previous.at(-1)!.consumed <= sample.consumed && previous.at(-1)!.pods === sample.pods;
    const samples = [...(comparable ? previous : []), sample].filter((kept) => now - kept.at <= autoscaleWindowMs).slice(-maxSamples);
    // A measurement begun anew holds no recommendation yet: stabilizationWindow counts from now at the earliest.
    const held = comparable ? status.recommendedSince : new Date(now).toISOString();
    if (samples.length < 2 || now - samples[0]!.at < autoscaleMinSpanMs) {
      await this.deps.status.write(
        job,
        { autoscaler: { ...status, ...(held === undefined ? {} : { recommendedSince: held }), samples: samples.map(toStatus) } },
        [],
      );
      return undefined;
    }

    const current = desiredParallelism(job.spec);
    const partitions = statuses.reduce((sum, runtime) => sum + runtime!.partitions.length, 0);
    const recommendation = recommend(settings, samples, current, partitions, status.processingRate);
    const since = status.recommendedParallelism === recommendation.parallelism && held !== undefined ? Date.parse(held) : now;
    const evaluated: AutoscalerStatus = {
      ...status,
      recommendedParallelism: recommendation.parallelism,
      recommendedSince: new Date(since).toISOString(),
      ...(recommendation.processingRate === undefined ? {} : { processingRate: Math.round(recommendation.processingRate) }),
      lastEvaluationTime: new Date(now).toISOString(),
      reason: recommendation.reason,
      samples: samples.map(toStatus),
    };
    const lastScale = status.lastScaleTime === undefined ? undefined : Date.parse(status.lastScaleTime);
    const stable = now - since >= settings.stabilizationMs;
    const downTooSoon = recommendation.parallelism < current && lastScale !== undefined && now - lastScale < settings.scaleDownDelayMs;
    if (settings.mode !== 'apply' || recommendation.parallelism === current || !stable || downTooSoon) {
      await this.deps.status.write(job, { autoscaler: evaluated }, []);
      return undefined;
    }
    // Intent first: whoever reads spec.parallelism changed finds the recommendation and lastScaleTime behind it, and a
    // controller killed between the two writes finds the samples gone, measures anew and decides again.
    // The pods restart from a savepoint and count from zero: the next recommendation is measured anew anyway.
    await this.deps.status.write(job, { autoscaler: { ...evaluated, samples: [], lastScaleTime: new Date(now).toISOString() } }, []);
    await this.deps.objects.scale(job, recommendation.parallelism);
    this.deps.status.event(job, 'Normal', StreamJobEventReason.Autoscaled, `parallelism ${current} → ${recommendation.parallelism}: ${recommendation.reason}`);
    return { requeueAfterMs: pollMs };
  }
}

function fromStatus(stored: StoredSample): Sample {
  return { at: Date.parse(stored.at), consumed: stored.consumed, lag: stored.lag, pods: stored.pods };
}

function toStatus(sample: Sample): StoredSample {
  return { at: new Date(sample.at).toISOString(), consumed: sample.consumed, lag: sample.lag, pods: sample.pods };
}
