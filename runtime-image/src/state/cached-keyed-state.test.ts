// The write-back cache and TTL of keyed state, over a real RocksDB in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheBudget } from './cache-budget.js';
import { CachedKeyedState, type StateTtl } from './cached-keyed-state.js';
import type { Json, StateCodec } from './keyed.js';
import { RocksDbStore } from './rocksdb-store.js';
import { StateStoreError, type StateNamespace } from './store.js';
import { applyStateChanges, TaskState } from './task-state.js';
import { decodeStateValue, encodeStateValue } from './value-format.js';

interface Counter {
  count: number;
}
const counterCodec: StateCodec<Counter> = { encode: (c) => ({ count: c.count }), decode: (json) => ({ count: (json as { count: number }).count }) };
const jsonCodec: StateCodec<Json> = { encode: (v) => v, decode: (v) => v };

/** A clock the test moves by hand. */
function manualClock(start: number): { now: number; read: () => number } {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

describe('CachedKeyedState', () => {
  let dir: string;
  let store: RocksDbStore;
  const namespace: StateNamespace = { operatorId: 'velocity', partition: 2 };

  const stored = (key: string): Json | undefined => {
    const value = store.view(namespace).get(key);
    return value === undefined ? undefined : decodeStateValue(value);
  };

  function keyedState<V>(codec: StateCodec<V>, options: { cacheSize?: number; ttl?: StateTtl; sweepPerFlush?: number } = {}): CachedKeyedState<V> {
    return new CachedKeyedState<V>({
      store,
      namespace,
      codec,
      cache: new CacheBudget(options.cacheSize ?? 1_000).join(),
      ttl: options.ttl,
      sweepPerFlush: options.sweepPerFlush,
    });
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-keyed-'));
    store = await RocksDbStore.open(dir);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writes in memory until a flush, then writes them and returns them for the changelog', () => {
    const state = keyedState(counterCodec);
    state.put('alice', { count: 1 });
    state.put('alice', { count: 2 });
    state.put('bob', { count: 7 });

    expect(state.get('alice')).toEqual({ count: 2 });
    expect(stored('alice')).toBeUndefined();

    const changes = state.flush();

    expect(changes.map(({ operatorId, key, value }) => [operatorId, key, value && decodeStateValue(value)])).toEqual([
      ['velocity', 'alice', { count: 2 }],
      ['velocity', 'bob', { count: 7 }],
    ]);
    expect(stored('alice')).toEqual({ count: 2 });
    expect(state.flush()).toEqual([]);
  });

  it('serves a hot key from the cache without reading the store', () => {
    const state = keyedState(counterCodec);
    state.put('alice', { count: 1 });
    state.flush();
    // Changed underneath the cache: a read that reached the store would see it.
    store
      .batch()
      .put(namespace, 'alice', encodeStateValue({ count: 99 }, undefined))
      .write();

    expect(state.get('alice')).toEqual({ count: 1 });
  });

  it('reads a miss from the store synchronously and caches absent keys too', () => {
    store
      .batch()
      .put(namespace, 'carol', encodeStateValue({ count: 5 }, undefined))
      .write();
    const state = keyedState(counterCodec);

    expect(state.get('carol')).toEqual({ count: 5 });
    expect(state.get('dave')).toBeUndefined();
    store
      .batch()
      .put(namespace, 'dave', encodeStateValue({ count: 1 }, undefined))
      .write();
    expect(state.get('dave')).toBeUndefined();
  });

  it('hands out the cached object; a change to it is written once put again', () => {
    const state = keyedState(counterCodec);
    state.put('alice', { count: 1 });
    state.flush();

    const counter = state.get('alice') as Counter;
    counter.count++;
    state.put('alice', counter);

    expect(state.get('alice')).toBe(counter);
    expect(state.flush().map((c) => c.key)).toEqual(['alice']);
    expect(stored('alice')).toEqual({ count: 2 });
  });

  it('writes a tombstone for a stored key it deletes, and nothing for a key it knows is absent', () => {
    const state = keyedState(counterCodec);
    state.put('alice', { count: 1 });
    state.flush();

    state.delete('alice');
    expect(state.get('alice')).toBeUndefined();
    state.get('never');
    state.put('never', { count: 1 });
    state.delete('never');

    expect(state.flush()).toEqual([{ operatorId: 'velocity', key: 'alice', value: null }]);
    expect(stored('alice')).toBeUndefined();
  });

  it('evicts clean entries beyond its share of the budget after a flush, and reads them back from the store', () => {
    const state = keyedState(counterCodec, { cacheSize: 10 });
    for (let i = 0; i < 100; i++) state.put(`k${i}`, { count: i });
    expect(state.cached).toBe(100);

    state.flush();

    expect(state.cached).toBe(10);
    for (let i = 0; i < 100; i++) expect(state.get(`k${i}`)).toEqual({ count: i });
  });

  it('spares recently read entries when it evicts', () => {
    const state = keyedState(counterCodec, { cacheSize: 4 });
    for (let i = 0; i < 8; i++) state.put(`k${i}`, { count: i });
    state.flush();
    // Changed underneath the cache: a key still cached reads its old value, an evicted one the new value.
    const changeUnderneath = (): void => {
      const batch = store.batch();
      for (let i = 0; i < 8; i++) batch.put(namespace, `k${i}`, encodeStateValue({ count: 100 + i }, undefined));
      batch.write();
    };
    changeUnderneath();
    const cachedNow = (): string[] => [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => state.get(`k${i}`)?.count === i).map((i) => `k${i}`);
    expect(state.cached).toBe(4);

    state.get('k4');
    state.get('k5');
    state.get('k0');
    state.get('k1');
    state.flush();

    // k4 and k5 were cached before k0 and k1 were read back, yet their reads spared them; k6 and k7 went.
    expect(state.cached).toBe(4);
    expect(cachedNow()).toEqual(['k4', 'k5']);
  });

  it('splits one budget evenly among the states that share it', () => {
    const budget = new CacheBudget(100);
    const shares = [budget.join(), budget.join(), budget.join()];
    expect(shares.map((share) => share.limit)).toEqual([33, 33, 33]);
  });

  describe('with a TTL', () => {
    it('reads an entry not written for the TTL as absent and deletes it on the next flush', () => {
      const clock = manualClock(1_000);
      const state = keyedState(counterCodec, { ttl: { ms: 500, clock: clock.read } });
      state.put('alice', { count: 1 });
      state.flush();

      clock.now = 1_499;
      expect(state.get('alice')).toEqual({ count: 1 });
      clock.now = 1_500;
      expect(state.get('alice')).toBeUndefined();
      expect(state.flush()).toEqual([{ operatorId: 'velocity', key: 'alice', value: null }]);
      expect(stored('alice')).toBeUndefined();
    });

    it('renews an entry on every write, not on reads', () => {
      const clock = manualClock(0);
      const state = keyedState(counterCodec, { ttl: { ms: 100, clock: clock.read } });
      state.put('alice', { count: 1 });
      clock.now = 90;
      state.put('alice', { count: 2 });
      state.put('bob', { count: 1 });
      clock.now = 150;
      expect(state.get('alice')).toEqual({ count: 2 });
      expect(state.get('bob')).toEqual({ count: 1 });
      clock.now = 190;
      expect(state.get('alice')).toBeUndefined();
    });

    it('expires entries read back from the store after a restart, by the time they were written', () => {
      const clock = manualClock(0);
      const ttl = { ms: 100, clock: clock.read };
      const before = keyedState(counterCodec, { ttl });
      before.put('alice', { count: 1 });
      before.flush();
      clock.now = 100;

      const after = keyedState(counterCodec, { ttl });

      expect(after.get('alice')).toBeUndefined();
      expect([...after.entries()]).toEqual([]);
      expect(after.flush().map((c) => [c.key, c.value])).toEqual([['alice', null]]);
    });

    it('purges expired keys that no one reads again, a slice per flush, so state cannot grow without bound', () => {
      const clock = manualClock(0);
      const state = keyedState(jsonCodec, { cacheSize: 0, ttl: { ms: 10, clock: clock.read }, sweepPerFlush: 20 });
      for (let i = 0; i < 50; i++) state.put(`k${String(i).padStart(2, '0')}`, i);
      state.flush();
      expect(state.cached).toBe(0);
      clock.now = 5;
      state.put('fresh', 'still young');
      state.flush();

      // Each flush examines the next 20 stored keys in key order and wraps at the end. The flush at 5 examined
      // k00–k19 before any had expired, so they are purged only after the wrap, on the fourth flush.
      clock.now = 12;
      const purged: string[] = [];
      for (let flush = 0; flush < 3; flush++) purged.push(...state.flush().map((c) => c.key));
      expect(purged.length).toBeLessThan(50);
      purged.push(...state.flush().map((c) => c.key));

      expect(purged).toHaveLength(50);
      expect([...store.view(namespace).scan()].map(([key]) => key)).toEqual(['fresh']);
    });

    it('refuses a write while an event-time clock has not started', () => {
      const state = keyedState(counterCodec, { ttl: { ms: 10, clock: () => Number.NEGATIVE_INFINITY } });
      expect(() => state.put('alice', { count: 1 })).toThrow(StateStoreError);
      expect(() => state.put('alice', { count: 1 })).toThrow(/largest event time seen/);
    });
  });

  it('lists the live entries of the cache and of the store together', () => {
    const state = keyedState(jsonCodec, { cacheSize: 2 });
    for (const key of ['a', 'b', 'c', 'd']) state.put(key, key.toUpperCase());
    state.flush();
    state.delete('a');
    state.put('e', 'E');
    state.put('b', 'B2');

    expect(new Map(state.entries())).toEqual(
      new Map([
        ['b', 'B2'],
        ['c', 'C'],
        ['d', 'D'],
        ['e', 'E'],
      ]),
    );
  });
});

describe('TaskState', () => {
  let dir: string;
  let store: RocksDbStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-task-'));
    store = await RocksDbStore.open(dir);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flushes every operator of the task together and replays the changes into another store', async () => {
    const task = new TaskState({ store, partition: 4, cache: new CacheBudget(100) });
    const windows = task.keyedState('windows', jsonCodec);
    const dedupe = task.keyedState('dedupe', jsonCodec);
    windows.put('alice', { count: 1 });
    dedupe.put('tx-1', true);

    const changes = task.flush();

    expect(changes.map((c) => [c.operatorId, c.key])).toEqual([
      ['windows', 'alice'],
      ['dedupe', 'tx-1'],
    ]);
    const replicaDir = mkdtempSync(join(tmpdir(), 'sluice-task-replica-'));
    const replica = await RocksDbStore.open(replicaDir);
    try {
      applyStateChanges(replica, 4, [...changes, { operatorId: 'dedupe', key: 'tx-1', value: null }]);
      const restored = new TaskState({ store: replica, partition: 4, cache: new CacheBudget(100) });
      expect(restored.keyedState('windows', jsonCodec).get('alice')).toEqual({ count: 1 });
      expect(restored.keyedState('dedupe', jsonCodec).get('tx-1')).toBeUndefined();
    } finally {
      await replica.close();
      rmSync(replicaDir, { recursive: true, force: true });
    }
  });

  it('refuses two keyed states under one operator id', () => {
    const task = new TaskState({ store, partition: 0, cache: new CacheBudget(100) });
    task.keyedState('windows', jsonCodec);
    expect(() => task.keyedState('windows', jsonCodec)).toThrow(/already has keyed state/);
  });

  it('applies the job TTL unless an operator opts out', () => {
    const clock = manualClock(0);
    const task = new TaskState({ store, partition: 0, cache: new CacheBudget(100), ttl: { ms: 10, clock: clock.read } });
    const dedupe = task.keyedState('dedupe', jsonCodec);
    const windows = task.keyedState('windows', jsonCodec, { ttl: null });
    dedupe.put('tx', true);
    windows.put('w', 1);
    clock.now = 10;

    expect(dedupe.get('tx')).toBeUndefined();
    expect(windows.get('w')).toBe(1);
  });
});
