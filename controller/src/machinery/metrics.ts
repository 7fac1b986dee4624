// The controller's Prometheus metrics, in a registry of its own so that two controllers in one process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly queues = new Map<string, () => number>();
  readonly reconciles = new Counter({
    name: 'sluice_controller_reconcile_total',
    help: 'Reconciles by kind and result (done, requeue_after, error, terminal).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'sluice_controller_reconcile_errors_total',
    help: 'Reconciles that failed, terminal or retried, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sluice_controller_reconcile_duration_seconds',
    help: 'How long one reconcile takes, by kind.',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'sluice_controller_queue_depth',
    help: 'Keys waiting in the work queue, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    // Read at scrape time, so keys that a timer put back (backoff, requeueAfter) count too.
    collect: () => {
      for (const [kind, depth] of this.queues) this.queueDepth.set({ kind }, depth());
    },
  });
  readonly leader = new Gauge({
    name: 'sluice_controller_leader',
    help: '1 while this process holds the leader Lease (or runs without leader election).',
    registers: [this.registry],
  });

  readonly savepoints = new Counter({
    name: 'sluice_streamjob_savepoints_total',
    help: 'StreamJob savepoints by trigger (manual, periodic, upgrade, rescale, suspend) and result (taken, failed).',
    labelNames: ['namespace', 'job', 'trigger', 'result'] as const,
    registers: [this.registry],
  });
  readonly upgrades = new Counter({
    name: 'sluice_streamjob_upgrades_total',
    help: 'StreamJob upgrades by reason (SpecChanged, Rescale, Suspend, Resume, Restart) and result (started, succeeded, rolled_back).',
    labelNames: ['namespace', 'job', 'reason', 'result'] as const,
    registers: [this.registry],
  });
  readonly upgradeDuration = new Histogram({
    name: 'sluice_streamjob_upgrade_duration_seconds',
    help: 'From an upgrade’s start (its intent in status) to every new pod ready, by reason.',
    labelNames: ['reason'] as const,
    buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });

  /** Reports this queue's depth as sluice_controller_queue_depth{kind}. */
  trackQueue(kind: string, depth: () => number): void {
    this.queues.set(kind, depth);
  }

  constructor(processMetrics = false) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
