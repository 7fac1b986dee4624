// Informers (list + watch into a cache) over one or several namespaces, restarted after a watch error.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { WatchEvent } from './generation-changed.js';

export type Namespaces = { all: true } | { all: false; names: string[] };

/** A list as the API server returns it; structurally client-node's KubernetesListObject. */
export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export interface InformerSource<T> {
  /** The watch path for one namespace, or for all when undefined. */
  path(namespace?: string): string;
  /** Lists only the objects with these labels (and the watch sees only them); `list` must apply the same selector. */
  labelSelector?: string;
  list(namespace?: string): Promise<ObjectList<T>>;
}

/** The objects of one kind in the watched namespaces, kept current by list + watch. */
export class ResourceInformer<T extends object> {
  private readonly informers: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>)[];
  private readonly listeners: ((object: T, event: WatchEvent) => void)[] = [];
  private stopped = false;
  private readonly cancelRestarts = new Set<() => void>();

  constructor(
    kubeconfig: KubeConfig,
    source: InformerSource<T>,
    namespaces: Namespaces,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly restartDelayMs = 1000,
  ) {
    const scopes = namespaces.all ? [undefined] : namespaces.names;
    // client-node types metadata with Dates where the wire has strings; the objects themselves are the API server's JSON.
    this.informers = scopes.map((namespace) =>
      makeInformer<KubernetesObject>(kubeconfig, source.path(namespace), () => source.list(namespace), source.labelSelector),
    );
    for (const informer of this.informers) this.wire(informer);
  }

  /** Called for every add, update and delete, with which it was. */
  onChange(listener: (object: T, event: WatchEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once every namespace's first list is in the cache. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cancel of this.cancelRestarts) cancel();
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  list(): T[] {
    return this.informers.flatMap((informer) => informer.list() as readonly T[]);
  }

  private wire(informer: Informer<KubernetesObject>): void {
    const notify =
      (event: WatchEvent) =>
      (object: KubernetesObject): void => {
        for (const listener of this.listeners) listener(object as T, event);
      };
    informer.on('add', notify('add'));
    informer.on('update', notify('update'));
    informer.on('delete', notify('delete'));
    // client-node's informer stops on an error (an expired watch, the API server restarting): list and watch again.
    informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      this.log.warn({ err: error }, 'watch failed; listing and watching again');
      const cancel = this.clock.after(this.restartDelayMs, () => {
        this.cancelRestarts.delete(cancel);
        if (!this.stopped) informer.start().catch((startError: unknown) => this.log.warn({ err: startError }, 'watch restart failed'));
      });
      this.cancelRestarts.add(cancel);
    });
  }
}
