// One controller: watch events become keys on a work queue, and workers run reconcile(key) under the requeue contract.
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { ControllerMetrics } from './metrics.js';
import { TerminalError, parseKey, type Reconciler } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  /** Reconciles that run at once (never two for one key). */
  workers: number;
  /** Every key in the caches is queued again this often, to correct drift nobody announces (Kafka has no watch). */
  resyncPeriodMs: number;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly keySources: (() => string[])[] = [];
  private running: Promise<void>[] = [];
  private cancelResync: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly reconciler: Reconciler,
    private readonly options: ControllerOptions,
    private readonly metrics: ControllerMetrics,
    private readonly clock: Clock,
    private readonly log: Logger,
    queue?: WorkQueue,
  ) {
    this.queue = queue ?? new WorkQueue(clock);
    metrics.trackQueue(reconciler.kind, () => this.queue.depth);
  }

  get kind(): string {
    return this.reconciler.kind;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Where the periodic resync finds every key (the informer caches). */
  resyncFrom(keys: () => string[]): void {
    this.keySources.push(keys);
  }

  start(): void {
    this.running = Array.from({ length: this.options.workers }, () => this.work());
    for (const source of this.keySources) for (const key of source()) this.enqueue(key);
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelResync?.();
    this.queue.shutDown();
    await Promise.all(this.running);
  }

  private scheduleResync(): void {
    this.cancelResync = this.clock.after(this.options.resyncPeriodMs, () => {
      if (this.stopped) return;
      for (const source of this.keySources) for (const key of source()) this.enqueue(key);
      this.scheduleResync();
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOnce(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileOnce(key: string): Promise<void> {
    const kind = this.kind;
    const log = this.log.child({ kind, key });
    const stopTimer = this.metrics.duration.startTimer({ kind });
    try {
      const result = await this.reconciler.reconcile(parseKey(key));
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined) {
        this.metrics.reconciles.inc({ kind, result: 'requeue_after' });
        this.queue.addAfter(key, result.requeueAfterMs);
        log.debug({ requeueAfterMs: result.requeueAfterMs }, 'reconciled; coming back later');
      } else {
        this.metrics.reconciles.inc({ kind, result: 'done' });
        log.debug('reconciled');
      }
    } catch (error) {
      this.metrics.errors.inc({ kind });
      if (error instanceof TerminalError) {
        this.metrics.reconciles.inc({ kind, result: 'terminal' });
        this.queue.forget(key);
        log.info({ reason: error.reason, detail: error.message }, 'reconcile refused; not retrying until the resource changes');
      } else {
        this.metrics.reconciles.inc({ kind, result: 'error' });
        const delayMs = this.queue.addRateLimited(key);
        log.warn({ err: error, retryInMs: Math.round(delayMs), failures: this.queue.failures(key) }, 'reconcile failed; retrying with backoff');
      }
    } finally {
      stopTimer();
    }
  }
}
