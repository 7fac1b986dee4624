import { type Json, type KeyedState, type KeyedStateFactory, MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import { session, sliding } from '../window/assigners.js';
import { type Dataflow, DataStream, DataflowError } from './datastream.js';
import { Task } from './task.js';

type Event = { result: Record<string, unknown>; at: number } | { late: Record<string, unknown> } | { deadLetter: string };
type Snapshot = { watermark: number; state: Record<string, [string, Json][]> };

/** Keyed state in memory that can be written out as JSON and read back, as a snapshot would. */
class SnapshotState {
  readonly #dumps = new Map<string, () => [string, Json][]>();
  constructor(private readonly from: Snapshot['state'] = {}) {}

  readonly factory: KeyedStateFactory = <V>(operatorId: string, codec: StateCodec<V>): KeyedState<V> => {
    const state = new MemoryKeyedState<V>((this.from[operatorId] ?? []).map(([key, json]) => [key, codec.decode(json)] as const));
    this.#dumps.set(operatorId, () => [...state.entries()].map(([key, value]) => [key, codec.encode(value)]));
    return state;
  };

  dump(): Snapshot['state'] {
    return JSON.parse(JSON.stringify(Object.fromEntries([...this.#dumps].map(([id, dump]) => [id, dump()])))) as Snapshot['state'];
  }
}

function start(dataflow: Dataflow, from?: Snapshot) {
  const events: Event[] = [];
  const state = new SnapshotState(from?.state);
  const task = new Task(dataflow, {
    state: state.factory,
    outputs: {
      result: ({ value, timestamp }) => events.push({ result: value, at: timestamp }),
      late: ({ value }) => events.push({ late: value }),
      deadLetter: ({ reason }) => events.push({ deadLetter: reason }),
    },
  });
  if (from !== undefined) task.restore(from.watermark);
  return { task, events, snapshot: (): Snapshot => ({ watermark: task.watermark, state: state.dump() }) };
}

type Click = { user: string; page: string; ms: number };
const click = (user: string, page: string, ms: number): Click => ({ user, page, ms });
const iso = (ms: number) => new Date(ms).toISOString();

describe('Task', () => {
  it('runs filter, map and flatMap in order and passes records to the main output', () => {
    const job = DataStream.fromSource<Click>({ maxOutOfOrderness: 0 })
      .filter((c) => c.page !== 'health')
      .map((c) => ({ who: c.user.toUpperCase(), pages: c.page.split('/') }))
      .flatMap((c) => c.pages.map((page) => ({ who: c.who, page })));
    const { task, events } = start(job.build());
    task.processRecord(click('ann', 'a/b', 0), 10);
    task.processRecord(click('bob', 'health', 0), 11);
    task.processRecord(click('cid', 'c', 0), 12);
    expect(events).toEqual([
      { result: { who: 'ANN', page: 'a' }, at: 10 },
      { result: { who: 'ANN', page: 'b' }, at: 10 },
      { result: { who: 'CID', page: 'c' }, at: 12 },
    ]);
    expect(task.counts).toEqual({ recordsIn: 3, resultsOut: 3, late: 0, deadLettered: 0 });
  });

  it('sends a record whose function fails to the dead letters with the reason, and goes on', () => {
    const job = DataStream.fromSource<Record<string, unknown>>({ maxOutOfOrderness: 0 })
      .filter((r) => (r.f === 'throw' ? (JSON.parse('{') as boolean) : r.f !== 'drop' && (r.f === 'maybe' ? ('yes' as unknown as boolean) : true)))
      .map((r) => (r.m === 'array' ? ([1] as unknown as Record<string, unknown>) : r))
      .flatMap((r) => {
        if (r.x === 'throw') throw new Error('no x');
        return r.x === 'number' ? [r, 5 as unknown as Record<string, unknown>] : [r];
      });
    const { task, events } = start(job.build());
    const inputs: Record<string, unknown>[] = [{ f: 'throw' }, { f: 'maybe' }, { m: 'array' }, { x: 'throw' }, { x: 'number' }, { f: 'drop' }, { ok: 1 }];
    inputs.forEach((value, i) => task.processRecord(value, i));
    expect(events).toEqual([
      { deadLetter: expect.stringMatching(/^filter-1: .*JSON/) as unknown as string },
      { deadLetter: 'filter-1: the filter returned "yes", not true or false' },
      { deadLetter: 'map-2: map returned [1], not a record (an object)' },
      { deadLetter: 'flatMap-3: no x' },
      { deadLetter: 'flatMap-3: flatMap returned 5 among its records, not a record (an object)' },
      { result: { ok: 1 }, at: 6 },
    ]);
    expect(task.counts).toEqual({ recordsIn: 7, resultsOut: 1, late: 0, deadLettered: 5 });
  });

  it('sends a record without a usable event time to the dead letters and leaves the watermark', () => {
    const { task, events } = start(DataStream.fromSource({ maxOutOfOrderness: 0 }).build());
    task.processRecord({ a: 1 }, 100);
    task.processRecord({ a: 2 }, Number.NaN);
    expect(events).toEqual([{ result: { a: 1 }, at: 100 }, { deadLetter: 'the event time NaN is not a number of epoch milliseconds' }]);
    expect(task.watermark).toBe(99);
  });

  // Sessions of 10 s per user over page views, after a filter; maxOutOfOrderness 5 s, allowedLateness 20 s.
  const sessions = DataStream.fromSource<Click>({ maxOutOfOrderness: '5s' })
    .filter((c) => c.page !== 'health')
    .keyBy('user')
    .window(session('10s'), { allowedLateness: '20s' })
    .aggregate([
      { name: 'views', fn: 'count' },
      { name: 'pages', fn: 'count_distinct', field: 'page' },
      { name: 'first_page', fn: 'first', field: 'page' },
      { name: 'p50_ms', fn: 'percentile', field: 'ms', q: 0.5 },
    ])
    .build();
  const views: [Click, number][] = [
    [click('ann', 'home', 120), 0],
    [click('bob', 'home', 80), 1_000],
    [click('ann', 'cart', 300), 4_000],
    [click('ann', 'health', 1), 4_500],
    // wm 24 999: bob [1 000, 11 000) fires at 10 999, then ann [0, 14 000) at 13 999.
    [click('bob', 'pay', 90), 30_000],
    // [14 000, 24 000) touches ann [0, 14 000): the merged [0, 24 000) is due already and fires at once.
    [click('ann', 'pay', 200), 14_000],
    // [11 000, 21 000) touches bob [1 000, 11 000) but not [30 000, 40 000): [1 000, 21 000) fires at once.
    [click('bob', 'home', 60), 11_000],
    // [2 000, 12 000): 11 999 + 20 000 > 24 999, so late but allowed: a new session that fires at once.
    [click('cid', 'home', 10), 2_000],
    // wm 54 999: bob [30 000, 40 000) fires; the sessions that ended by 34 999 are cleaned up.
    [click('ann', 'home', 50), 60_000],
    // [3 000, 13 000): 12 999 + 20 000 ≤ 54 999 and no session of cid is left to take it: late.
    [click('cid', 'home', 10), 3_000],
  ];

  it('runs keyed session windows after a filter, with re-fires, late records and end of input', () => {
    const { task, events } = start(sessions);
    for (const [value, timestamp] of views) task.processRecord(value, timestamp);
    task.endOfInput();
    const result = (user: string, from: number, to: number, v: number, pages: number, first: string, p50: number): Event => ({
      result: { user, window_start: iso(from), window_end: iso(to), views: v, pages, first_page: first, p50_ms: p50 },
      at: to - 1,
    });
    expect(events).toEqual([
      result('bob', 1_000, 11_000, 1, 1, 'home', 80),
      result('ann', 0, 14_000, 2, 2, 'home', 120),
      result('ann', 0, 24_000, 3, 3, 'home', 200),
      result('bob', 1_000, 21_000, 2, 1, 'home', 60),
      result('cid', 2_000, 12_000, 1, 1, 'home', 10),
      result('bob', 30_000, 40_000, 1, 1, 'pay', 90),
      { late: click('cid', 'home', 10) },
      result('ann', 60_000, 70_000, 1, 1, 'home', 50),
    ]);
    expect(task.counts).toEqual({ recordsIn: 10, resultsOut: 7, late: 1, deadLettered: 0 });
  });

  it.each([
    ['sessions', sessions],
    [
      'sliding windows',
      DataStream.fromSource<Click>({ maxOutOfOrderness: '2s' })
        .keyBy('user')
        .window(sliding('10s', '5s'), { allowedLateness: '5s' })
        .aggregate([
          { name: 'views', fn: 'count' },
          { name: 'last_page', fn: 'last', field: 'page' },
          { name: 'avg_ms', fn: 'avg', field: 'ms' },
        ])
        .build(),
    ],
  ])('restored from a snapshot after any record, %s emit exactly what an uninterrupted run emits after it', (_, dataflow) => {
    const whole = start(dataflow);
    for (const [value, timestamp] of views) whole.task.processRecord(value, timestamp);
    whole.task.endOfInput();
    for (let split = 0; split <= views.length; split++) {
      const first = start(dataflow);
      for (const [value, timestamp] of views.slice(0, split)) first.task.processRecord(value, timestamp);
      const second = start(dataflow, JSON.parse(JSON.stringify(first.snapshot())) as Snapshot);
      for (const [value, timestamp] of views.slice(split)) second.task.processRecord(value, timestamp);
      second.task.endOfInput();
      expect([...first.events, ...second.events]).toEqual(whole.events);
    }
  });
});

describe('DataStream', () => {
  it('builds a chain of operator nodes with ids and inputs', () => {
    const dataflow = DataStream.fromSource<Click>({ maxOutOfOrderness: '30s' })
      .filter(() => true)
      .map((c) => c, { id: 'project' })
      .keyBy((c) => c.user.toLowerCase(), 'user_lower')
      .window(sliding('10m', '1m'))
      .aggregate([{ name: 'n', fn: 'count' }])
      .build();
    expect(dataflow.maxOutOfOrderness).toBe(30_000);
    expect(dataflow.nodes.map(({ id, kind, input }) => ({ id, kind, input }))).toEqual([
      { id: 'filter-1', kind: 'filter', input: null },
      { id: 'project', kind: 'map', input: 'filter-1' },
      { id: 'window-3', kind: 'window', input: 'project' },
    ]);
  });

  it('names a function key in the results', () => {
    const dataflow = DataStream.fromSource<Click>({ maxOutOfOrderness: 0 })
      .keyBy((c) => c.user.length, 'name_length')
      .window(session('1s'))
      .aggregate([{ name: 'n', fn: 'count' }])
      .build();
    const { task, events } = start(dataflow);
    task.processRecord(click('ann', 'x', 0), 0);
    task.endOfInput();
    expect(events).toEqual([{ result: { name_length: 3, window_start: iso(0), window_end: iso(1_000), n: 1 }, at: 999 }]);
  });

  it.each<[string, () => unknown, string]>([
    [
      'a repeated id',
      () =>
        DataStream.fromSource({ maxOutOfOrderness: 0 })
          .map((r) => r, { id: 'x' })
          .filter(() => true, { id: 'x' }),
      'operator id x is used twice; give each step its own id',
    ],
    ['an empty id', () => DataStream.fromSource({ maxOutOfOrderness: 0 }).map((r) => r, { id: '' }), 'the map step has an empty id; leave it out or name it'],
    [
      'an aggregate named like a key field',
      () =>
        DataStream.fromSource<Click>({ maxOutOfOrderness: 0 })
          .keyBy('user')
          .window(session('1s'))
          .aggregate([{ name: 'user', fn: 'count' }]),
      'aggregate user would overwrite the result field user; rename the aggregate',
    ],
    [
      'an aggregate named window_end',
      () =>
        DataStream.fromSource<Click>({ maxOutOfOrderness: 0 })
          .keyBy('user')
          .window(session('1s'))
          .aggregate([{ name: 'window_end', fn: 'count' }]),
      'aggregate window_end would overwrite the result field window_end; rename the aggregate',
    ],
    [
      'a function key without a name',
      () => DataStream.fromSource<Click>({ maxOutOfOrderness: 0 }).keyBy((c) => c.user, ''),
      'keyBy with a function needs the name of the key field its result fills',
    ],
  ])('refuses %s', (_, build, message) => {
    expect(build).toThrow(new DataflowError(message));
  });

  it('refuses a maxOutOfOrderness that is not a duration', () => {
    expect(() => DataStream.fromSource({ maxOutOfOrderness: 'thirty seconds' })).toThrow('"thirty seconds" is not a duration such as 5m');
  });
});
