// The StreamJob autoscaler's arithmetic: from samples of records consumed and consumer lag, the parallelism that drains the lag within catchUpTime at targetUtilization.
import type { StreamJobSpec } from '@sluice/crds';
import { parseDuration } from '@sluice/runtime';

export interface AutoscalerSettings {
  mode: 'apply' | 'recommend';
  min: number;
  max: number | undefined;
  targetUtilization: number;
  catchUpMs: number;
  stabilizationMs: number;
  scaleDownDelayMs: number;
}

/** The spec's autoscaler with the CRD's defaults, or undefined when there is none or it is disabled. */
export function autoscalerSettings(spec: StreamJobSpec): AutoscalerSettings | undefined {
  const autoscaler = spec.autoscaler;
  if (autoscaler === undefined || autoscaler.enabled === false) return undefined;
  return {
    mode: autoscaler.mode ?? 'apply',
    min: autoscaler.min ?? 1,
    max: autoscaler.max,
    targetUtilization: autoscaler.targetUtilization ?? 0.7,
    catchUpMs: parseDuration(autoscaler.catchUpTime ?? '5m'),
    stabilizationMs: parseDuration(autoscaler.stabilizationWindow ?? '5m'),
    scaleDownDelayMs: parseDuration(autoscaler.scaleDownDelay ?? '15m'),
  };
}

/** One look at the running job: records its pods consumed so far (summed), its lag, and how many pods answered. */
export interface Sample {
  at: number;
  consumed: number;
  lag: number;
  pods: number;
}

export interface Recommendation {
  parallelism: number;
  /** Records per second one pod was measured to process while it had a backlog; undefined until it had one. */
  processingRate: number | undefined;
  reason: string;
}

/**
 * What one pod processed per second between two consecutive samples that both found the job behind (with lag, so the
 * pods had work the whole time), the highest such; undefined when no two did. A pod that keeps up shows the input's
 * rate, not its own capacity.
 */
function busiestRate(samples: readonly Sample[]): number | undefined {
  let best: number | undefined;
  for (let i = 1; i < samples.length; i += 1) {
    const before = samples[i - 1]!;
    const after = samples[i]!;
    if (before.lag === 0 || after.lag === 0 || after.pods === 0 || after.at <= before.at) continue;
    const rate = (after.consumed - before.consumed) / ((after.at - before.at) / 1000) / after.pods;
    best = best === undefined ? rate : Math.max(best, rate);
  }
  return best;
}

/**
 * The parallelism the samples (oldest first, at least two) call for, with a pod's capacity from busiestRate, else
 * `knownRate` (measured before). Without either, the current parallelism stands.
 */
export function recommend(
  settings: AutoscalerSettings,
  samples: readonly Sample[],
  current: number,
  partitions: number,
  knownRate: number | undefined,
): Recommendation {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const seconds = (last.at - first.at) / 1000;
  const consumedRate = (last.consumed - first.consumed) / seconds;
  const inputRate = Math.max(0, consumedRate + (last.lag - first.lag) / seconds);
  const processingRate = busiestRate(samples) ?? knownRate;
  const upper = Math.min(settings.max ?? partitions, partitions);
  const bound = (wanted: number): number => Math.max(settings.min, Math.min(upper, wanted));
  if (processingRate === undefined || processingRate <= 0) {
    return {
      parallelism: bound(current),
      processingRate: undefined,
      reason: `no pod has been behind yet, so no pod's capacity is known: the job stays at ${bound(current)} pods`,
    };
  }
  const needed = inputRate + last.lag / (settings.catchUpMs / 1000);
  const wanted = Math.max(1, Math.ceil(needed / (processingRate * settings.targetUtilization)));
  const parallelism = bound(wanted);
  const limit =
    parallelism === wanted ? '' : ` (${wanted} wanted, bounded to ${settings.min}..${upper}${upper === partitions ? ', the source partitions' : ''})`;
  return {
    parallelism,
    processingRate,
    reason:
      `input ${Math.round(inputRate)}/s and a lag of ${last.lag} records to drain within ${settings.catchUpMs / 1000}s need ${Math.round(needed)}/s; ` +
      `one pod processes ${Math.round(processingRate)}/s and is planned at ${Math.round(settings.targetUtilization * 100)}%: ${parallelism} pods${limit}`,
  };
}
