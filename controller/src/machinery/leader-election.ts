// Leader election on a coordination.k8s.io Lease, client-go's algorithm: acquire when free or expired, renew before the deadline, step down when renewal fails.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { isConflict, isNotFound } from './kube-errors.js';

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  /** Unique per process: the Lease's holderIdentity. */
  identity: string;
  /** How long a holder's claim lasts without renewal; another process waits this long after a crash. */
  leaseDurationMs: number;
  /** The holder steps down if it could not renew for this long (less than leaseDurationMs). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export function leaderElectionDefaults(namespace: string, identity: string): LeaderElectionOptions {
  return { namespace, leaseName: 'sluice-controller', identity, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
}

/** metav1.MicroTime wants exactly six fractional digits. */
function microTime(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private stopped = false;
  private cancelRenew: (() => void) | undefined;
  private lastRenewed = 0;

  constructor(
    kubeconfig: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.api = kubeconfig.makeApiClient(CoordinationV1Api);
  }

  /** Resolves once this process holds the Lease; then renews it until stop(), calling onLost if it cannot. */
  async acquire(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error('leader election stopped before the Lease was acquired');
      if (await this.tryAcquireOrRenew().catch((error: unknown) => this.retryable(error))) break;
      await new Promise<void>((resolve) => this.clock.after(this.options.retryPeriodMs, resolve));
    }
    this.log.info({ lease: `${this.options.namespace}/${this.options.leaseName}`, identity: this.options.identity }, 'became the leader');
    this.scheduleRenew(onLost);
  }

  /** Stops renewing and gives the Lease up, so the next leader need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    this.cancelRenew?.();
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime(this.clock.now()) as unknown as Date };
      await this.api.replaceNamespacedLease({ namespace: this.options.namespace, name: this.options.leaseName, body: lease });
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the Lease; the next leader waits for it to expire');
    }
  }

  private retryable(error: unknown): boolean {
    this.log.warn({ err: error }, 'leader election: could not read or write the Lease');
    return false;
  }

  private scheduleRenew(onLost: () => void): void {
    this.cancelRenew = this.clock.after(this.options.retryPeriodMs, () => {
      if (this.stopped) return;
      this.tryAcquireOrRenew()
        .catch((error: unknown) => this.retryable(error))
        .then((held) => {
          if (this.stopped) return;
          const now = this.clock.now().getTime();
          if (!held && now - this.lastRenewed > this.options.renewDeadlineMs) {
            this.stopped = true;
            this.log.error({ identity: this.options.identity }, 'lost the leader Lease');
            onLost();
            return;
          }
          this.scheduleRenew(onLost);
        }, onLost);
    });
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ namespace: this.options.namespace, name: this.options.leaseName });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** One attempt: true when this process holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const { namespace, leaseName: name, identity } = this.options;
    const leaseDurationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    const lease = await this.read();
    if (lease === undefined) {
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: microTime(now) as unknown as Date,
          renewTime: microTime(now) as unknown as Date,
          leaseTransitions: 0,
        },
      };
      try {
        await this.api.createNamespacedLease({ namespace, body });
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
      this.lastRenewed = now.getTime();
      return true;
    }
    const spec = lease.spec ?? {};
    const held = spec.holderIdentity === identity;
    const renewed = spec.renewTime === undefined ? 0 : new Date(spec.renewTime).getTime();
    const expired = !spec.holderIdentity || renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (!held && !expired) return false;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: microTime(now) as unknown as Date,
      acquireTime: (held ? spec.acquireTime : microTime(now)) as unknown as Date,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (held ? 0 : 1),
    };
    try {
      // The resourceVersion in the body makes this a compare-and-swap: of two contenders only one wins.
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.lastRenewed = now.getTime();
    return true;
  }
}
