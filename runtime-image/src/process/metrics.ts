// The runtime's Prometheus metrics (prom-client), one registry per process, fed by the task set's events.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitReport, ExactlyOnceEvents } from '../kafka/exactly-once.js';
import type { Clock } from '../time/watermark.js';

export interface RuntimeMetrics {
  registry: Registry;
  events: ExactlyOnceEvents;
  checkpoint(durationSeconds: number, bytes: number): void;
  /** A periodic checkpoint failed (the job goes on; the next one is tried at the next interval). */
  checkpointFailed(): void;
  /** Starts each rule's violation counter at 0, so a rule is in the metrics (and a dashboard's rate) before its first breakage. */
  rules(source: string, names: readonly string[]): void;
}

/** What the gauges read at each scrape: every owned partition's consumer lag and watermark. */
export type PartitionSample = () => readonly { partition: number; lag: number | undefined; watermark: number }[];

/** What the checkpoint gauges read at each scrape: when the running checkpoint began and when the last one completed, epoch ms. */
export type CheckpointSample = () => { inProgressSince: number | null; lastCompletedAt: number | null };

/** A process that takes no periodic checkpoints. */
const NO_CHECKPOINTS: CheckpointSample = () => ({ inProgressSince: null, lastCompletedAt: null });

/** `now` is processing time, which the lag and latency metrics measure against (a test's manual clock sets it). */
export function createMetrics(job: string, sample: PartitionSample, checkpoints: CheckpointSample = NO_CHECKPOINTS, now: Clock = Date.now): RuntimeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ job });
  const recordsIn = new Counter({
    name: 'sluice_records_in_total',
    help: 'Records read by an operator',
    labelNames: ['operator', 'partition'],
    registers: [registry],
  });
  const recordsOut = new Counter({
    name: 'sluice_records_out_total',
    help: 'Records emitted by an operator',
    labelNames: ['operator', 'partition'],
    registers: [registry],
  });
  const late = new Counter({
    name: 'sluice_late_records_total',
    help: 'Records too late for every window, sent to the late output',
    labelNames: ['partition'],
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'sluice_dead_lettered_records_total',
    help: 'Records sent to the dead-letter output',
    labelNames: ['partition'],
    registers: [registry],
  });
  const ruleViolations = new Counter({
    name: 'sluice_rule_violations_total',
    help: "Records that broke a source's data-quality rule (spec.sources[].rules), sent to the dead-letter output",
    labelNames: ['source', 'rule'],
    registers: [registry],
  });
  new Gauge({
    name: 'sluice_consumer_lag_records',
    help: 'Source records not read yet',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      for (const { partition, lag } of sample()) if (lag !== undefined) this.set({ partition }, lag);
    },
  });
  new Gauge({
    name: 'sluice_watermark_lag_seconds',
    help: 'Processing time minus the partition watermark',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      const at = now();
      for (const { partition, watermark } of sample()) if (Number.isFinite(watermark)) this.set({ partition }, (at - watermark) / 1000);
    },
  });
  const latency = new Histogram({
    name: 'sluice_event_to_output_latency_seconds',
    help: 'From a result’s event time to the commit that made it visible',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const commits = new Histogram({
    name: 'sluice_commit_duration_seconds',
    help: 'Duration of one exactly-once transaction',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const checkpointDuration = new Histogram({
    name: 'sluice_checkpoint_duration_seconds',
    help: 'Duration of a checkpoint or savepoint',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const checkpointBytes = new Gauge({ name: 'sluice_checkpoint_size_bytes', help: 'Size of the last checkpoint or savepoint', registers: [registry] });
  const checkpointFailures = new Counter({
    name: 'sluice_checkpoint_failures_total',
    help: 'Periodic checkpoints that failed (S3 unreachable, timed out, refused)',
    registers: [registry],
  });
  // A stuck checkpoint shows as this gauge growing while commits go on: alert on it exceeding a few checkpoint intervals.
  new Gauge({
    name: 'sluice_checkpoint_in_progress_seconds',
    help: 'How long the running periodic checkpoint has been going; 0 when none runs',
    registers: [registry],
    collect() {
      const { inProgressSince } = checkpoints();
      this.set(inProgressSince === null ? 0 : (now() - inProgressSince) / 1000);
    },
  });
  new Gauge({
    name: 'sluice_checkpoint_last_completed_timestamp_seconds',
    help: 'When the last periodic checkpoint completed, Unix seconds; absent until one has',
    registers: [registry],
    collect() {
      const { lastCompletedAt } = checkpoints();
      if (lastCompletedAt !== null) this.set(lastCompletedAt / 1000);
    },
  });
  const events: ExactlyOnceEvents = {
    recordsIn: (partition, count) => {
      recordsIn.inc({ operator: 'source', partition }, count);
      recordsOut.inc({ operator: 'source', partition }, count);
    },
    operators: (partition, counts) => {
      for (const { operatorId, recordsIn: into, recordsOut: outOf } of counts) {
        if (into > 0) recordsIn.inc({ operator: operatorId, partition }, into);
        if (outOf > 0) recordsOut.inc({ operator: operatorId, partition }, outOf);
      }
    },
    late: (partition) => late.inc({ partition }),
    deadLettered: (partition) => deadLettered.inc({ partition }),
    rulesBroken: (source, rules) => {
      for (const rule of rules) ruleViolations.inc({ source, rule });
    },
    committed: (report: CommitReport) => {
      commits.observe(report.durationMs / 1000);
      const at = now();
      for (const eventTime of report.resultEventTimes) latency.observe(Math.max(0, at - eventTime) / 1000);
    },
  };
  return {
    registry,
    events,
    checkpoint: (seconds, bytes) => {
      checkpointDuration.observe(seconds);
      checkpointBytes.set(bytes);
    },
    checkpointFailed: () => checkpointFailures.inc(),
    rules: (source, names) => {
      for (const rule of names) ruleViolations.inc({ source, rule }, 0);
    },
  };
}
