// The runtime's time-based gauges read the clock they are given: a manual one sets what they say.
import { ManualClock } from '../time/manual-clock.js';
import { createMetrics } from './metrics.js';

const noon = Date.parse('2026-12-07T12:00:00Z');

async function gauge(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number[]> {
  const metric = metrics.registry.getSingleMetric(name)!;
  return (await metric.get()).values.map(({ value }) => value);
}

describe('the runtime metrics', () => {
  it('count a running checkpoint’s seconds and a partition’s watermark lag on the clock they are given', async () => {
    const clock = new ManualClock(noon);
    const metrics = createMetrics(
      'fraud',
      () => [{ partition: 0, lag: 0, watermark: noon - 30_000 }],
      () => ({ inProgressSince: noon, lastCompletedAt: null }),
      clock.now,
    );
    clock.advance(90_000);
    expect(await gauge(metrics, 'sluice_checkpoint_in_progress_seconds')).toEqual([90]);
    expect(await gauge(metrics, 'sluice_watermark_lag_seconds')).toEqual([120]);
  });

  it('measure a result’s event-to-output latency at its commit on that clock', async () => {
    const clock = new ManualClock(noon);
    const metrics = createMetrics('fraud', () => [], undefined, clock.now);
    clock.advance(2_000);
    metrics.events.committed!({ durationMs: 5, messages: 1, changelogRecords: 0, resultEventTimes: [noon] });
    expect(await metrics.registry.metrics()).toMatch(/^sluice_event_to_output_latency_seconds_sum\{job="fraud"\} 2$/m);
  });
});
