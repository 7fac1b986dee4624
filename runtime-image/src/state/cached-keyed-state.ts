// Keyed state over the store with a write-back cache: hot keys stay in memory, changes reach the store once per flush.
import type { Clock } from '../time/watermark.js';
import type { CacheShare } from './cache-budget.js';
import type { KeyedState, StateCodec } from './keyed.js';
import { StateStoreError, type StateNamespace, type StateStore, type StoreBatch, type StoreView } from './store.js';
import { decodeStateValue, encodeStateValue, stateValueTouchedAt } from './value-format.js';

/**
 * Entries not written for `ms` read as absent and are purged, so state cannot grow without bound.
 * Reads do not renew an entry: renewing on read would turn every read into a write to the store and
 * the changelog.
 */
export interface StateTtl {
  readonly ms: number;
  /**
   * Processing time (`Date.now`), or event time: then the task's largest event time seen, including
   * the record being processed. Not the watermark: it is −∞ while the first record is processed.
   */
  readonly clock: Clock;
}

/** One change made by a flush, for the changelog: the stored bytes, or null for a deletion (a tombstone). */
export interface StateChange {
  readonly operatorId: string;
  readonly key: string;
  readonly value: Buffer | null;
}

export interface CachedKeyedStateOptions<V> {
  store: StateStore;
  namespace: StateNamespace;
  codec: StateCodec<V>;
  /** How many entries this state keeps in memory after a flush. */
  cache: CacheShare;
  ttl?: StateTtl | undefined;
  /** With a TTL, how many stored entries each flush examines for expiry: the sweep that purges keys no one reads again. */
  sweepPerFlush?: number;
}

interface CacheEntry<V> {
  /** undefined: absent (never stored, deleted or expired). */
  value: V | undefined;
  /** The TTL clock when it was last written; undefined without a TTL. */
  touchedAt: number | undefined;
  /** Changed since the last flush. */
  dirty: boolean;
  /** The store may hold a value for the key, so a deletion must reach it. */
  stored: boolean;
  /** Read or written since the last eviction pass: spared once (the CLOCK second chance). */
  recent: boolean;
}

const DEFAULT_SWEEP_PER_FLUSH = 1_000;

/**
 * Reads are served from the cache; a miss reads the store synchronously (one RocksDB lookup, a few
 * microseconds) and caches the answer, absent keys included. `put` and `delete` only mark the entry
 * dirty. `flush()` writes every dirty entry in one batch and returns the changes for the changelog;
 * then clean entries beyond the cache's limit are evicted, least recently used first (approximately:
 * CLOCK). Dirty entries are never evicted, so between two flushes the cache may exceed its limit by
 * the keys written in that interval.
 */
export class CachedKeyedState<V> implements KeyedState<V> {
  readonly namespace: StateNamespace;
  readonly #store: StateStore;
  readonly #view: StoreView;
  readonly #codec: StateCodec<V>;
  readonly #share: CacheShare;
  readonly #ttl: StateTtl | undefined;
  readonly #sweepPerFlush: number;
  readonly #cache = new Map<string, CacheEntry<V>>();
  #dirty: string[] = [];
  #sweepAfter: string | undefined;

  constructor(options: CachedKeyedStateOptions<V>) {
    this.namespace = options.namespace;
    this.#store = options.store;
    this.#view = options.store.view(options.namespace);
    this.#codec = options.codec;
    this.#share = options.cache;
    this.#ttl = options.ttl;
    this.#sweepPerFlush = options.sweepPerFlush ?? DEFAULT_SWEEP_PER_FLUSH;
    if (this.#ttl !== undefined && !(this.#ttl.ms > 0)) {
      throw new RangeError(
        `the state TTL of operator ${JSON.stringify(this.namespace.operatorId)} must be a positive number of milliseconds, not ${this.#ttl.ms}`,
      );
    }
  }

  get(key: string): V | undefined {
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      entry = this.#load(key);
    } else if (entry.value !== undefined && this.#expired(entry.touchedAt, this.#now())) {
      this.#change(key, entry, undefined, entry.touchedAt);
    }
    entry.recent = true;
    return entry.value;
  }

  put(key: string, value: V): void {
    this.#write(key, value, this.#touch());
  }

  delete(key: string): void {
    this.#write(key, undefined, undefined);
  }

  /** The live entries as they stand when called: the cache's, then the store's that the cache does not hold. */
  *entries(): Generator<readonly [string, V]> {
    const now = this.#now();
    const cached = new Set<string>();
    const live: [string, V][] = [];
    for (const [key, entry] of this.#cache) {
      cached.add(key);
      if (entry.value !== undefined && !this.#expired(entry.touchedAt, now)) live.push([key, entry.value]);
    }
    yield* live;
    for (const [key, bytes] of this.#view.scan()) {
      if (cached.has(key) || this.#expired(stateValueTouchedAt(bytes), now)) continue;
      yield [key, this.#codec.decode(decodeStateValue(bytes))];
    }
  }

  /**
   * The keys with `prefix` that hold a value: the cache's, then the store's that the cache does not hold (a ranged scan:
   * keys with one prefix sit together in key order). Expired entries are included: deleting one is harmless.
   */
  keysWithPrefix(prefix: string): string[] {
    const keys: string[] = this.#cache.has(prefix) || this.#view.get(prefix) === undefined ? [] : [prefix];
    for (const [key, entry] of this.#cache) if (entry.value !== undefined && key.startsWith(prefix)) keys.push(key);
    for (const [key] of this.#view.scan({ after: prefix })) {
      if (!key.startsWith(prefix)) break;
      if (!this.#cache.has(key)) keys.push(key);
    }
    return keys;
  }

  /**
   * Writes the changes since the last flush (and, with a TTL, purges a slice of expired stored
   * entries) into `batch`, or into a batch of its own that it writes at once. With a caller's batch,
   * the caller writes it, and a failed write must fail the task: the entries already count as clean.
   */
  flush(batch?: StoreBatch): StateChange[] {
    const target = batch ?? this.#store.batch();
    const changes: StateChange[] = [];
    const now = this.#now();
    if (this.#ttl !== undefined && this.#sweepPerFlush > 0) this.#sweep(target, changes, now);
    for (const key of this.#dirty) {
      const entry = this.#cache.get(key) as CacheEntry<V>;
      entry.dirty = false;
      if (entry.value === undefined || this.#expired(entry.touchedAt, now)) {
        entry.value = undefined;
        if (!entry.stored) continue;
        entry.stored = false;
        target.delete(this.namespace, key);
        changes.push({ operatorId: this.namespace.operatorId, key, value: null });
      } else {
        const bytes = encodeStateValue(this.#codec.encode(entry.value), entry.touchedAt);
        entry.stored = true;
        target.put(this.namespace, key, bytes);
        changes.push({ operatorId: this.namespace.operatorId, key, value: bytes });
      }
    }
    this.#dirty = [];
    if (batch === undefined) target.write();
    this.#evict();
    return changes;
  }

  /** How many entries the cache holds now. */
  get cached(): number {
    return this.#cache.size;
  }

  #load(key: string): CacheEntry<V> {
    const bytes = this.#view.get(key);
    let entry: CacheEntry<V>;
    if (bytes === undefined) {
      entry = { value: undefined, touchedAt: undefined, dirty: false, stored: false, recent: true };
    } else {
      const touchedAt = stateValueTouchedAt(bytes);
      entry = { value: undefined, touchedAt, dirty: false, stored: true, recent: true };
      if (this.#expired(touchedAt, this.#now())) this.#markDirty(key, entry);
      else entry.value = this.#codec.decode(decodeStateValue(bytes));
    }
    this.#cache.set(key, entry);
    return entry;
  }

  #write(key: string, value: V | undefined, touchedAt: number | undefined): void {
    const entry = this.#cache.get(key);
    if (entry === undefined) {
      // Not read first, so whether the store holds the key is unknown: a deletion must reach it.
      const created: CacheEntry<V> = { value, touchedAt, dirty: false, stored: true, recent: true };
      this.#cache.set(key, created);
      this.#markDirty(key, created);
    } else {
      this.#change(key, entry, value, touchedAt);
      entry.recent = true;
    }
  }

  #change(key: string, entry: CacheEntry<V>, value: V | undefined, touchedAt: number | undefined): void {
    entry.value = value;
    entry.touchedAt = touchedAt;
    this.#markDirty(key, entry);
  }

  #markDirty(key: string, entry: CacheEntry<V>): void {
    if (entry.dirty) return;
    entry.dirty = true;
    this.#dirty.push(key);
  }

  #now(): number | undefined {
    return this.#ttl?.clock();
  }

  /** The write time for a put; refuses a clock that has not started, which would expire the entry at once. */
  #touch(): number | undefined {
    const now = this.#now();
    if (now !== undefined && !Number.isFinite(now)) {
      throw new StateStoreError(
        'SLUICE_E_STATE_CLOCK',
        `the TTL clock of operator ${JSON.stringify(this.namespace.operatorId)} reads ${now}: give event-time TTL the largest event time seen including the current record, not the watermark`,
      );
    }
    return now;
  }

  #expired(touchedAt: number | undefined, now: number | undefined): boolean {
    return this.#ttl !== undefined && touchedAt !== undefined && now !== undefined && touchedAt + this.#ttl.ms <= now;
  }

  /**
   * Examines the next slice of the stored entries (resuming where the previous flush stopped) and
   * deletes the expired ones. Keys the cache holds are the cache's business, except clean ones that
   * expired there unread.
   */
  #sweep(batch: StoreBatch, changes: StateChange[], now: number | undefined): void {
    let seen = 0;
    let last: string | undefined;
    for (const [key, bytes] of this.#view.scan({ after: this.#sweepAfter, limit: this.#sweepPerFlush })) {
      seen++;
      last = key;
      const cached = this.#cache.get(key);
      if (cached !== undefined) {
        if (cached.dirty || cached.value === undefined || !this.#expired(cached.touchedAt, now)) continue;
        cached.value = undefined;
        cached.stored = false;
      } else if (!this.#expired(stateValueTouchedAt(bytes), now)) {
        continue;
      }
      batch.delete(this.namespace, key);
      changes.push({ operatorId: this.namespace.operatorId, key, value: null });
    }
    this.#sweepAfter = seen < this.#sweepPerFlush ? undefined : last;
  }

  /** After a flush every entry is clean: evicts down to the limit, sparing recently used entries once. */
  #evict(): void {
    const limit = this.#share.limit;
    let visits = this.#cache.size * 2;
    for (const [key, entry] of this.#cache) {
      if (this.#cache.size <= limit || visits-- === 0) return;
      this.#cache.delete(key);
      if (entry.recent) {
        // Re-inserted at the end of the map's order; the loop reaches it again after the others.
        entry.recent = false;
        this.#cache.set(key, entry);
      }
    }
  }
}
