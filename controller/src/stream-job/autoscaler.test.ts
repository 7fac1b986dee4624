// The autoscaler's arithmetic on hand-made samples: capacity only from a backlog, lag drained within catchUpTime, bounds.
import type { StreamJobSpec } from '@sluice/crds';
import { autoscalerSettings, recommend, type AutoscalerSettings, type Sample } from './autoscaler.js';

const settings: AutoscalerSettings = {
  mode: 'apply',
  min: 1,
  max: undefined,
  targetUtilization: 0.5,
  catchUpMs: 10_000,
  stabilizationMs: 0,
  scaleDownDelayMs: 0,
};
const sample = (seconds: number, consumed: number, lag: number, pods = 1): Sample => ({ at: seconds * 1000, consumed, lag, pods });

describe('the autoscaler', () => {
  it('measures a pod from a stretch with a backlog and plans enough pods to drain the lag within catchUpTime', () => {
    // One pod consumed 10 000/s for 10 s while the lag fell from 500 000 to 400 000: the input was 0/s.
    const recommendation = recommend(settings, [sample(0, 0, 500_000), sample(10, 100_000, 400_000)], 1, 8, undefined);
    expect(recommendation.processingRate).toBe(10_000);
    // 400 000 in 10 s = 40 000/s at 5 000/s per pod (50 % of 10 000) = 8 pods.
    expect(recommendation.parallelism).toBe(8);
    expect(recommendation.reason).toMatch(/need 40000\/s; one pod processes 10000\/s and is planned at 50%: 8 pods/);
  });

  it('counts the input that arrives while it measures', () => {
    // Consumed 10 000/s and the lag still grew by 1 000/s: the input is 11 000/s.
    const { parallelism } = recommend({ ...settings, catchUpMs: 1_000_000 }, [sample(0, 0, 10_000), sample(10, 100_000, 20_000)], 1, 8, undefined);
    expect(parallelism).toBe(3);
  });

  it('never goes above max or the source partitions, nor below min', () => {
    expect(recommend({ ...settings, max: 4 }, [sample(0, 0, 500_000), sample(10, 100_000, 400_000)], 1, 8, undefined).parallelism).toBe(4);
    expect(recommend(settings, [sample(0, 0, 500_000), sample(10, 100_000, 400_000)], 1, 6, undefined).reason).toMatch(
      /8 wanted, bounded to 1\.\.6, the source partitions/,
    );
    expect(recommend({ ...settings, min: 2 }, [sample(0, 0, 0), sample(10, 100, 0)], 3, 8, 10_000).parallelism).toBe(2);
  });

  it('measures a pod between any two samples that both found it behind, the busiest stretch', () => {
    const draining = [sample(0, 0, 50_000), sample(2, 20_000, 30_000), sample(4, 50_000, 1), sample(6, 50_001, 0)];
    expect(recommend(settings, draining, 1, 8, undefined).processingRate).toBe(15_000);
  });

  it('does not take a pod that keeps up for its capacity: without a backlog it keeps what it knew', () => {
    const keepingUp = [sample(0, 0, 0), sample(10, 1_000, 0)];
    expect(recommend(settings, keepingUp, 3, 8, undefined)).toMatchObject({ parallelism: 3, processingRate: undefined });
    expect(recommend(settings, keepingUp, 3, 8, 10_000)).toMatchObject({ parallelism: 1, processingRate: 10_000 });
  });

  it('reads the spec with the CRD defaults and ignores a disabled one', () => {
    const spec = { sources: [], sinks: [] } as unknown as StreamJobSpec;
    expect(autoscalerSettings(spec)).toBeUndefined();
    expect(autoscalerSettings({ ...spec, autoscaler: { enabled: false } })).toBeUndefined();
    expect(autoscalerSettings({ ...spec, autoscaler: {} })).toEqual({
      mode: 'apply',
      min: 1,
      max: undefined,
      targetUtilization: 0.7,
      catchUpMs: 300_000,
      stabilizationMs: 300_000,
      scaleDownDelayMs: 900_000,
    });
  });
});
