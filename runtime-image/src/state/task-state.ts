// The keyed states of one task (source partition): created per operator, flushed together in one batch.
import type { CacheBudget } from './cache-budget.js';
import { CachedKeyedState, type StateChange, type StateTtl } from './cached-keyed-state.js';
import type { KeyedStateFactory, StateCodec } from './keyed.js';
import { StateStoreError, type StateStore } from './store.js';

export interface TaskStateOptions {
  store: StateStore;
  partition: number;
  /** The pod's cache budget (spec.state.cacheSize), shared by every keyed state of every task. */
  cache: CacheBudget;
  /** The job's TTL (spec.state.ttl) for the keyed states that do not say otherwise. */
  ttl?: StateTtl | undefined;
  sweepPerFlush?: number;
}

export interface KeyedStateOptions {
  /** This operator's TTL; null for none (windows drop their own state), absent for the task's. */
  ttl?: StateTtl | null;
}

export class TaskState {
  readonly partition: number;
  readonly #options: TaskStateOptions;
  readonly #states = new Map<string, CachedKeyedState<unknown>>();

  constructor(options: TaskStateOptions) {
    this.partition = options.partition;
    this.#options = options;
  }

  /** One operator's keyed state in this task; an arrow so it can be handed out as a KeyedStateFactory. */
  readonly keyedState = (<V>(operatorId: string, codec: StateCodec<V>, options: KeyedStateOptions = {}): CachedKeyedState<V> => {
    if (this.#states.has(operatorId)) {
      throw new StateStoreError(
        'SLUICE_E_STATE_DUPLICATE',
        `operator id ${JSON.stringify(operatorId)} already has keyed state in partition ${this.partition}: give each stateful step its own id`,
      );
    }
    const state = new CachedKeyedState<V>({
      store: this.#options.store,
      namespace: { operatorId, partition: this.partition },
      codec,
      cache: this.#options.cache.join(),
      ttl: options.ttl === null ? undefined : (options.ttl ?? this.#options.ttl),
      sweepPerFlush: this.#options.sweepPerFlush,
    });
    this.#states.set(operatorId, state);
    return state;
  }) satisfies KeyedStateFactory;

  /** Writes the changes of every keyed state of the task in one batch; returns them for the changelog. */
  flush(): StateChange[] {
    const batch = this.#options.store.batch();
    const changes: StateChange[] = [];
    for (const state of this.#states.values()) for (const change of state.flush(batch)) changes.push(change);
    if (batch.length > 0) batch.write();
    return changes;
  }
}

/**
 * Replays changelog records (the tail after a snapshot) into the store. Runs before the task's keyed
 * states are created: they would not see changes written underneath their caches.
 */
export function applyStateChanges(store: StateStore, partition: number, changes: Iterable<StateChange>): void {
  const batch = store.batch();
  for (const { operatorId, key, value } of changes) {
    const namespace = { operatorId, partition };
    if (value === null) batch.delete(namespace, key);
    else batch.put(namespace, key, value);
  }
  if (batch.length > 0) batch.write();
}
