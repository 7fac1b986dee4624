// The keyed state view operators use, reached synchronously, and its in-memory implementation.

/** A value that JSON.stringify and JSON.parse carry across unchanged. */
export type Json = null | boolean | number | string | Json[] | { [field: string]: Json };

/**
 * One operator's keyed state within one task (namespaced by operator id and source partition by
 * whoever creates it). Calls are synchronous: an implementation over a store keeps a write-back cache.
 * `get` may return the very object held in the cache: an operator that changes it calls `put` again,
 * which is what marks it to be written.
 */
export interface KeyedState<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  /** Every entry, in no particular order: the operator scans them on restore. */
  entries(): Iterable<readonly [key: string, value: V]>;
  /**
   * The keys held that start with `prefix`, in no particular order: an erasure (erasure/) finds a subject's entries
   * with it. Optional: without it the erasure scans entries().
   */
  keysWithPrefix?(prefix: string): string[];
}

/** How an operator's state values become plain JSON (for the store, changelog and snapshots) and back. */
export interface StateCodec<V> {
  encode(value: V): Json;
  decode(json: Json): V;
}

/** Creates the keyed state of one operator of a task. */
export type KeyedStateFactory = <V>(operatorId: string, codec: StateCodec<V>) => KeyedState<V>;

export class MemoryKeyedState<V> implements KeyedState<V> {
  readonly #values: Map<string, V>;

  constructor(entries: Iterable<readonly [string, V]> = []) {
    this.#values = new Map(entries);
  }

  get(key: string): V | undefined {
    return this.#values.get(key);
  }

  put(key: string, value: V): void {
    this.#values.set(key, value);
  }

  delete(key: string): void {
    this.#values.delete(key);
  }

  entries(): Iterable<readonly [string, V]> {
    return this.#values.entries();
  }

  keysWithPrefix(prefix: string): string[] {
    return [...this.#values.keys()].filter((key) => key.startsWith(prefix));
  }
}
