// The stream–table join against hand-computed results: inner and left, tombstones, rightKey, broadcast, keys as text, and what the compiler refuses.
import { compileJob, compileJobOrThrow } from '../compiler/compile.js';
import { formatProblem } from '../compiler/problems.js';
import { Task } from '../dataflow/task.js';
import { type Json, type KeyedState, type KeyedStateFactory, MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import type { TableChange } from './table-join.js';
import { TableJoinTasks } from './table-tasks.js';

type Spec = Record<string, unknown>;
type Row = Record<string, unknown>;

/** transactions joined with the customers table; `join` overrides the step's settings. */
function enrichment(join: Spec = {}, sources: Spec[] = [{ name: 'customers', file: { path: 'customers.jsonl' } }]): unknown {
  return {
    kind: 'StreamJob',
    metadata: { name: 'enrich' },
    spec: {
      sources: [{ name: 'transactions', file: { path: 'transactions.jsonl' } }, ...sources],
      pipeline: [{ id: 'with-customer', join: { with: 'customers', type: 'table', leftKey: 'customer_id', ...join } }],
      sinks: [{ name: 'out', stdout: {} }],
    },
  };
}

/** Keyed state in memory per task and operator, kept across a "restart" of the task. */
class KeptState {
  readonly stores = new Map<string, MemoryKeyedState<Json>>();
  readonly factory =
    (task: number): KeyedStateFactory =>
    <V>(operatorId: string, codec: StateCodec<V>): KeyedState<V> => {
      const kept = this.stores.get(`${operatorId}/${task}`) ?? new MemoryKeyedState<Json>();
      this.stores.set(`${operatorId}/${task}`, kept);
      return {
        get: (key) => (kept.get(key) === undefined ? undefined : codec.decode(kept.get(key)!)),
        put: (key, value) => kept.put(key, codec.encode(value)),
        delete: (key) => kept.delete(key),
        entries: () => [...kept.entries()].map(([key, json]) => [key, codec.decode(json)] as const),
      };
    };
}

type Step = { table: Omit<TableChange, 'partition'> & { partition?: number } } | { stream: Row; partition?: number };

/** Runs the steps through one task per stream partition; returns the results per task and the dead-letter reasons. */
function run(manifest: unknown, steps: Step[], tasks = [0], state = new KeptState()) {
  const job = compileJobOrThrow(manifest);
  const joins = new TableJoinTasks();
  const results: Row[] = [];
  const reasons: string[] = [];
  const running = new Map(
    tasks.map((partition) => [
      partition,
      new Task(joins.wrap(job.dataflow, partition), {
        state: state.factory(partition),
        outputs: {
          result: (record) => results.push({ task: partition, ...record.value }),
          late: () => undefined,
          deadLetter: ({ reason }) => reasons.push(reason),
        },
      }),
    ]),
  );
  for (const step of steps) {
    if ('table' in step) {
      const rejected = joins.apply(job.tables[0]!.source.name, { partition: 0, ...step.table }).rejected;
      if (rejected !== undefined) reasons.push(rejected.reason);
    } else running.get(step.partition ?? 0)!.processRecord(step.stream, 0);
  }
  return { results, reasons, joins, job };
}

const row = (key: string | null, value: Row | null, offset: number): Step => ({ table: { key, value, offset } });
const txn = (id: string, customer: unknown, partition?: number): Step => ({
  stream: { id, customer_id: customer },
  ...(partition === undefined ? {} : { partition }),
});
const gold = { tier: 'gold' };
const silver = { tier: 'silver' };

describe('the stream–table join', () => {
  it.each<[string, Spec, Step[], Row[]]>([
    [
      'inner: a record meets the row its key has at that moment; one without a row is dropped',
      {},
      [txn('t1', 'C1'), row('C1', gold, 0), txn('t2', 'C1'), txn('t3', 'C2'), row('C1', silver, 1), txn('t4', 'C1')],
      [
        { task: 0, id: 't2', customer_id: 'C1', customers: gold },
        { task: 0, id: 't4', customer_id: 'C1', customers: silver },
      ],
    ],
    [
      'left: every record, with null where the table has no row',
      { mode: 'left', into: 'customer' },
      [txn('t1', 'C1'), row('C1', gold, 0), txn('t2', 'C1'), txn('t3', 'C2')],
      [
        { task: 0, id: 't1', customer_id: 'C1', customer: null },
        { task: 0, id: 't2', customer_id: 'C1', customer: gold },
        { task: 0, id: 't3', customer_id: 'C2', customer: null },
      ],
    ],
    [
      'a tombstone (value null) deletes the row: inner drops, left gives null',
      { mode: 'left' },
      [row('C1', gold, 0), txn('t1', 'C1'), row('C1', null, 1), txn('t2', 'C1'), row('C1', silver, 2), txn('t3', 'C1')],
      [
        { task: 0, id: 't1', customer_id: 'C1', customers: gold },
        { task: 0, id: 't2', customer_id: 'C1', customers: null },
        { task: 0, id: 't3', customer_id: 'C1', customers: silver },
      ],
    ],
    [
      'rightKey keys the row by its own field instead of the message key; keys meet as text (42 finds "42")',
      { rightKey: 'id' },
      [row('ignored', { id: 42, tier: 'gold' }, 0), txn('t1', 42), txn('t2', '42'), txn('t3', 'ignored')],
      [
        { task: 0, id: 't1', customer_id: 42, customers: { id: 42, tier: 'gold' } },
        { task: 0, id: 't2', customer_id: '42', customers: { id: 42, tier: 'gold' } },
      ],
    ],
    [
      'a null join key matches nothing: left keeps the record with null',
      { mode: 'left' },
      [row('C1', gold, 0), txn('t1', null)],
      [{ task: 0, id: 't1', customer_id: null, customers: null }],
    ],
  ])('%s', (_name, join, steps, expected) => {
    expect(run(enrichment(join), steps).results).toEqual(expected);
  });

  it('co-partitioned: table partition p reaches task p only; broadcast: every task holds every partition', () => {
    const steps: Step[] = [
      { table: { partition: 0, key: 'C1', value: gold, offset: 0 } },
      { table: { partition: 1, key: 'C2', value: silver, offset: 0 } },
      txn('t1', 'C1', 0),
      txn('t2', 'C2', 0),
      txn('t3', 'C1', 1),
      txn('t4', 'C2', 1),
    ];
    expect(run(enrichment(), steps, [0, 1]).results).toEqual([
      { task: 0, id: 't1', customer_id: 'C1', customers: gold },
      { task: 1, id: 't4', customer_id: 'C2', customers: silver },
    ]);
    expect(run(enrichment({ broadcast: true }), steps, [0, 1]).results).toEqual([
      { task: 0, id: 't1', customer_id: 'C1', customers: gold },
      { task: 0, id: 't2', customer_id: 'C2', customers: silver },
      { task: 1, id: 't3', customer_id: 'C1', customers: gold },
      { task: 1, id: 't4', customer_id: 'C2', customers: silver },
    ]);
  });

  it('keeps its table position in state: a restored task skips the table messages it applied, and reads on from there', () => {
    const state = new KeptState();
    const first = run(enrichment(), [row('C1', gold, 0), row('C1', silver, 1)], [0], state);
    expect(first.joins.positions('customers', [0])).toEqual({ 0: 2 });
    // Replayed from offset 0 after a restart: offsets 0 and 1 are passed over, 2 is new.
    const again = run(enrichment(), [row('C1', gold, 0), row('C1', silver, 1), row('C2', gold, 2), txn('t1', 'C1'), txn('t2', 'C2')], [0], state);
    expect(again.results).toEqual([
      { task: 0, id: 't1', customer_id: 'C1', customers: silver },
      { task: 0, id: 't2', customer_id: 'C2', customers: gold },
    ]);
    expect(again.joins.positions('customers', [0])).toEqual({ 0: 3 });
  });

  it('dead-letters a record whose key is not a plain value, and refuses a table message without a key', () => {
    const { results, reasons } = run(enrichment(), [row(null, gold, 0), txn('t1', { id: 1 }), txn('t2', 'C1')]);
    expect(results).toEqual([]);
    expect(reasons).toEqual([
      'with-customer: table customers partition 0 offset 0 has no key; a table row needs a message key (or join.rightKey)',
      'with-customer: the join key is {"id":1}, not a string, number or boolean',
    ]);
  });

  it('compiles the table into the job: its source, the join step that holds it, co-partitioned or broadcast', () => {
    expect(compileJobOrThrow(enrichment({ broadcast: true })).tables).toEqual([
      { source: { name: 'customers', kind: 'file', path: 'customers.jsonl' }, joinId: 'with-customer', broadcast: true },
    ]);
  });

  const problemsOf = (manifest: unknown): string[] => {
    const result = compileJob(manifest);
    return result.ok ? [] : result.problems.map(formatProblem);
  };

  it.each<[string, unknown, string[]]>([
    [
      'an interval join with a source that has no event time',
      enrichment({ type: 'interval', rightKey: 'customer_id', lower: '-5m', upper: '5m' }),
      ['spec.pipeline[0].join.with: source customers has no eventTime; an interval join matches event times, so give it one, for example { field: timestamp }'],
    ],
    [
      'a table no source names',
      enrichment({ with: 'accounts' }),
      ['spec.pipeline[0].join.with: "accounts" is not one of the job\'s other sources (spec.sources after the first); use one of customers'],
    ],
    [
      'a generated table',
      enrichment({}, [{ name: 'customers', generator: { workload: 'transactions' } }]),
      ['spec.pipeline[0].join.with: source customers is a generator; a table reads a Kafka topic (compacted, keyed by the join key) or a JSON-lines file'],
    ],
    [
      'a source no join reads',
      enrichment({}, [
        { name: 'customers', file: { path: 'c.jsonl' } },
        { name: 'merchants', file: { path: 'm.jsonl' } },
      ]),
      ['spec.sources[2]: merchants is read by no join step; join with it ({ join: { with: merchants, type: table, leftKey: ... } }) or remove it'],
    ],
    [
      'two sources of one name',
      enrichment({}, [
        { name: 'customers', file: { path: 'c.jsonl' } },
        { name: 'transactions', file: { path: 't.jsonl' } },
      ]),
      ['spec.sources[2].name: "transactions" names an earlier source too; give each source its own name'],
    ],
    ['a mode that is not inner or left', enrichment({ mode: 'outer' }), ['spec.pipeline[0].join.mode: "outer" is not a join mode; use inner or left']],
  ])('refuses %s, naming the field', (_name, manifest, expected) => {
    expect(problemsOf(manifest)).toEqual(expected);
  });
});
