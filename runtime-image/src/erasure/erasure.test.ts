// GDPR erasure on keyed state: eraseKey of the window and pattern operators, keysWithPrefix over RocksDB (tombstones at flush), and the erasure positions per task.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAggregates } from '../aggregate/aggregates.js';
import { keyByFields } from '../dataflow/keys.js';
import type { OperatorContext, StreamRecord } from '../dataflow/operator.js';
import { IntervalJoinOperator } from '../join/interval-join.js';
import { TableJoinOperator } from '../join/table-join.js';
import { PatternOperator } from '../pattern/operator.js';
import { CacheBudget } from '../state/cache-budget.js';
import { MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import { TaskState } from '../state/task-state.js';
import { WATERMARK_END } from '../time/watermark.js';
import { session, tumbling } from '../window/assigners.js';
import { WindowOperator } from '../window/operator.js';
import { ErasureTasks, subjectOf, type ErasableTask } from './apply.js';
import { subjectSinkKeys } from './sink-keys.js';
import { parseKeyTemplate } from '../connectors/key-template.js';

/** A context on in-memory state that collects the results. */
function context(results: Record<string, unknown>[], state: (codec: StateCodec<unknown>) => MemoryKeyedState<unknown> = () => new MemoryKeyedState()) {
  const held: MemoryKeyedState<unknown>[] = [];
  const ctx: OperatorContext = {
    operatorId: 'op',
    output: { record: ({ value }) => results.push(value), watermark: () => undefined },
    late: () => undefined,
    deadLetter: (reason) => {
      throw new Error(reason);
    },
    keyedState: <V>(codec: StateCodec<V>) => {
      const created = state(codec);
      held.push(created);
      return created as unknown as MemoryKeyedState<V>;
    },
  };
  return { ctx, held };
}

const record = (customer: string | number, at: number): StreamRecord => ({ value: { customer_id: customer, amount: 1 }, timestamp: at });
const aggregates = compileAggregates([{ name: 'txn_count', fn: 'count' }]);

describe('eraseKey of the window operator', () => {
  it.each([
    ['tumbling', tumbling(60_000)],
    ['session', session(10_000)],
  ])('%s: deletes every window of the subject (not of c10, whose key starts alike); its next record counts from zero', (_name, assigner) => {
    const results: Record<string, unknown>[] = [];
    const { ctx, held } = context(results);
    const window = new WindowOperator({ assigner, allowedLateness: 0, key: keyByFields(['customer_id']), aggregates }, ctx);
    for (const at of [1_000, 2_000, 61_000]) for (const customer of ['c1', 'c10', 'c2']) window.processRecord(record(customer, at));

    expect(window.eraseKey('c1')).toBeGreaterThan(0);
    expect([...held[0]!.entries()].map(([key]) => key).filter((key) => key.startsWith('["c1"]'))).toEqual([]);
    window.processRecord(record('c1', 62_000));
    window.processWatermark(WATERMARK_END);

    const counts = (customer: string) => results.filter((r) => r.customer_id === customer).map((r) => r.txn_count);
    expect(counts('c1')).toEqual([1]);
    expect(counts('c10').reduce((a, b) => Number(a) + Number(b), 0)).toBe(3);
    expect(counts('c2').reduce((a, b) => Number(a) + Number(b), 0)).toBe(3);
  });

  it('erases a number key named as text, as an erasure record read from a Kafka key names it', () => {
    const results: Record<string, unknown>[] = [];
    const { ctx, held } = context(results);
    const window = new WindowOperator({ assigner: tumbling(60_000), allowedLateness: 0, key: keyByFields(['customer_id']), aggregates }, ctx);
    window.processRecord(record(42, 1_000));
    window.processRecord(record(7, 1_000));
    expect(window.eraseKey('42')).toBe(1);
    expect([...held[0]!.entries()].map(([key]) => key)).toEqual([expect.stringMatching(/^\[7\]/)]);
  });
});

describe('eraseKey of the pattern operator', () => {
  it("deletes the subject's partial matches, so a later record does not complete them", () => {
    const results: Record<string, unknown>[] = [];
    const { ctx, held } = context(results);
    const stage = (name: string, e: string) => ({
      name,
      times: 1,
      orMore: false,
      contiguity: 'followedBy' as const,
      condition: (v: Record<string, unknown>) => v.e === e,
    });
    const pattern = new PatternOperator({ key: keyByFields(['customer_id']), stages: [stage('first', 'a'), stage('then', 'b')], within: 60_000 }, ctx);
    const at = (customer: string, e: string, time: number): StreamRecord => ({ value: { customer_id: customer, e }, timestamp: time });
    pattern.processRecord(at('c1', 'a', 1_000));
    pattern.processRecord(at('c2', 'a', 1_000));
    pattern.processWatermark(1_500);
    expect(pattern.eraseKey('c1')).toBe(1);
    expect([...held[0]!.entries()].map(([key]) => key)).toEqual(['["c2"]']);
    pattern.processRecord(at('c1', 'b', 2_000));
    pattern.processRecord(at('c2', 'b', 2_000));
    pattern.processWatermark(WATERMARK_END);
    expect(results.map((r) => r.customer_id)).toEqual(['c2']);
  });
});

describe('eraseKey of the joins', () => {
  it("deletes the table's row of the subject: the next record of the subject finds none", () => {
    const results: Record<string, unknown>[] = [];
    const { ctx } = context(results);
    const join = new TableJoinOperator({ table: 'profiles', leftKey: (r) => r.customer_id, mode: 'left', into: 'profile', broadcast: false }, ctx);
    join.apply({ partition: 0, offset: 0, key: 'c1', value: { email: 'c1@bank.test' } });
    join.apply({ partition: 0, offset: 1, key: 'c2', value: { email: 'c2@bank.test' } });
    expect(join.eraseKey('c1')).toBe(1);
    join.processRecord(record('c1', 1_000));
    join.processRecord(record('c2', 1_000));
    expect(results.map((r) => r.profile)).toEqual([null, { email: 'c2@bank.test' }]);
  });

  it("deletes both sides' buffered records of the subject in an interval join", () => {
    const results: Record<string, unknown>[] = [];
    const { ctx, held } = context(results);
    const join = new IntervalJoinOperator(
      {
        other: 'logins',
        leftKey: (r) => r.customer_id,
        rightKey: (r) => r.customer_id,
        lower: -60_000,
        upper: 60_000,
        into: 'login',
        rightTime: (r) => r.at as number,
        rightMaxOutOfOrderness: 0,
      },
      ctx,
    );
    join.processRecord(record('c1', 1_000));
    join.processRecord(record('c2', 1_000));
    expect(join.eraseKey('c1')).toBe(1);
    expect([...held[0]!.entries()].map(([key]) => key).filter((key) => key.includes('c1'))).toEqual([]);
    join.apply({ partition: 0, offset: 0, key: null, value: { customer_id: 'c1', at: 2_000 } });
    join.apply({ partition: 0, offset: 1, key: null, value: { customer_id: 'c2', at: 2_000 } });
    expect(results.map((r) => r.customer_id)).toEqual(['c2']);
  });
});

describe('keysWithPrefix and deletes on the RocksDB store', () => {
  let dir: string;
  let store: RocksDbStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-erasure-'));
    store = await RocksDbStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds flushed and unflushed keys of the subject; its deletes are tombstones at the flush and the store holds none after', () => {
    const task = new TaskState({ store, partition: 0, cache: new CacheBudget(1) });
    const codec: StateCodec<number> = { encode: (v) => v, decode: (j) => j as number };
    const state = task.keyedState('window-1', codec);
    for (const key of ['["c1"]|0|60000', '["c1"]|60000|120000', '["c10"]|0|60000', '["c2"]|0|60000']) state.put(key, 1);
    task.flush();
    state.put('["c1"]|120000|180000', 1);
    const found = state.keysWithPrefix('["c1"').filter((key) => key['["c1"'.length] === ']');
    expect(found.sort()).toEqual(['["c1"]|0|60000', '["c1"]|120000|180000', '["c1"]|60000|120000']);
    for (const key of found) state.delete(key);
    const changes = task.flush();
    // Each becomes a tombstone (the unflushed one too: a put without a read cannot know the store lacks it).
    expect(changes.map(({ key, value }) => [key, value]).sort()).toEqual([
      ['["c1"]|0|60000', null],
      ['["c1"]|120000|180000', null],
      ['["c1"]|60000|120000', null],
    ]);
    const left = [...store.view({ operatorId: 'window-1', partition: 0 }).scan()].map(([key]) => key);
    expect(left).toEqual(['["c10"]|0|60000', '["c2"]|0|60000']);
  });
});

describe('ErasureTasks', () => {
  const erasure = { topic: 'erasures', resultField: 'customer_id' };
  const message = (offset: number, key: string) => ({ partition: 0, offset, key: Buffer.from(key), value: null });
  const tasks = (erased: string[][]): Map<number, ErasableTask> =>
    new Map([0, 1].map((p) => [p, { eraseKey: (subject) => (erased[p]!.push(String(subject)), 1) }] as const));

  it('applies each erasure once per task, from the positions its last commit recorded, and records the new ones', () => {
    const erased: string[][] = [[], []];
    const applier = new ErasureTasks({ erasure, sinks: [] });
    applier.restore(0, { erasure: { 0: 2 } });
    applier.restore(1, {});
    expect(applier.from(0)).toBe(0);
    for (const [offset, key] of [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ] as const)
      applier.apply(message(offset, key), key, tasks(erased));
    expect(erased).toEqual([['c'], ['a', 'b', 'c']]);
    expect(applier.metadata(0)).toEqual({ erasure: { 0: 3 } });
    expect(applier.metadata(1)).toEqual({ erasure: { 0: 3 } });
  });

  it('moves the tasks past a record that names no subject, once', () => {
    const applier = new ErasureTasks({ erasure, sinks: [] });
    applier.restore(0, { erasure: { 0: 5 } });
    expect(applier.pass(message(3, ''), [0, 1])).toEqual([1]);
    expect(applier.pass(message(3, ''), [0, 1])).toEqual([]);
    expect(applier.metadata(1)).toEqual({ erasure: { 0: 4 } });
  });

  it("routes an erasure to the task owning the subject's partition when the source is keyed by it, and erases in the sinks", () => {
    const erased: string[][] = [[], []];
    const sinkErasures: string[] = [];
    const sink = {
      write: () => undefined,
      commit: () => Promise.resolve(),
      close: () => Promise.resolve(),
      erase: (field: string, s: unknown) => (sinkErasures.push(`${field}=${String(s)}`), true),
    };
    const applier = new ErasureTasks({ erasure, sinks: [sink], routeBy: 2 });
    const { moved, report } = applier.apply(message(0, 'customer-1'), 'customer-1', tasks(erased));
    expect(moved).toEqual([0, 1]);
    expect(erased.flat()).toEqual(['customer-1']);
    expect(report).toMatchObject({ partitions: [erased[0]!.length === 1 ? 0 : 1], stateEntries: 1, sinks: 1 });
    expect(report!.subjectHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(report)).not.toContain('customer-1');
    expect(sinkErasures).toEqual(['customer_id=customer-1']);
  });

  it('reads the subject from the key, or from keyField of a JSON record, and says what is wrong otherwise', () => {
    expect(subjectOf(erasure, message(0, 'c1'))).toBe('c1');
    const withField = { ...erasure, keyField: 'customer_id' };
    expect(subjectOf(withField, { partition: 0, offset: 0, key: null, value: Buffer.from('{"customer_id":42}') })).toBe(42);
    expect(() => subjectOf(erasure, { partition: 0, offset: 0, key: null, value: null })).toThrow(/has no key/);
    expect(() => subjectOf(withField, { partition: 0, offset: 0, key: null, value: Buffer.from('{}') })).toThrow(/field customer_id is missing/);
  });
});

describe('subjectSinkKeys', () => {
  it('renders a template that uses the key field alone, and refuses one that uses another field', () => {
    expect(subjectSinkKeys(parseKeyTemplate('fraud:{customer_id}:count'), 'customer_id', 'c1')).toEqual(['fraud:c1:count']);
    expect(subjectSinkKeys(parseKeyTemplate('fraud:{customer_id}:{window_start}'), 'customer_id', 'c1')).toBeUndefined();
  });
});
