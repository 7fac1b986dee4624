// The interval join against hand-computed results, with Flink's semantics: b joins a when a.ts + lower ≤ b.ts ≤ a.ts + upper, late records go to the late output, buffers are cleaned by the watermark.
import { compileJob, compileJobOrThrow } from '../compiler/compile.js';
import { formatProblem } from '../compiler/problems.js';
import { Task } from '../dataflow/task.js';
import { type Json, type KeyedState, type KeyedStateFactory, MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import { TableJoinTasks } from './table-tasks.js';

type Spec = Record<string, unknown>;
type Row = Record<string, unknown>;

/** orders (the stream) joined with shipments (the other stream) on the order id, event times in epoch ms, in order (maxOutOfOrderness 0). */
function ordersWithShipments(join: Spec = {}): unknown {
  const eventTime = { field: 'ts', format: 'epoch-millis' };
  return {
    kind: 'StreamJob',
    metadata: { name: 'shipped' },
    spec: {
      sources: [
        { name: 'orders', file: { path: 'orders.jsonl' }, eventTime },
        { name: 'shipments', file: { path: 'shipments.jsonl' }, eventTime },
      ],
      pipeline: [
        {
          id: 'shipped',
          join: { with: 'shipments', type: 'interval', leftKey: 'id', rightKey: 'order', lower: '0s', upper: '10ms', into: 'shipment', ...join },
        },
      ],
      sinks: [{ name: 'out', stdout: {} }],
    },
  };
}

type Step = { order: string; at: number } | { shipment: string; order: string; at: number };

function run(manifest: unknown, steps: Step[]) {
  const job = compileJobOrThrow(manifest);
  const joins = new TableJoinTasks();
  const stores = new Map<string, MemoryKeyedState<Json>>();
  const factory: KeyedStateFactory = <V>(operatorId: string, codec: StateCodec<V>): KeyedState<V> => {
    const kept = new MemoryKeyedState<Json>();
    stores.set(operatorId, kept);
    return {
      get: (key) => (kept.get(key) === undefined ? undefined : codec.decode(kept.get(key)!)),
      put: (key, value) => kept.put(key, codec.encode(value)),
      delete: (key) => kept.delete(key),
      entries: () => [...kept.entries()].map(([key, json]) => [key, codec.decode(json)] as const),
    };
  };
  const events: string[] = [];
  const task = new Task(joins.wrap(job.dataflow, 0), {
    state: factory,
    outputs: {
      result: ({ value, timestamp }) => events.push(`${String(value.id)}+${String((value.shipment as Row).id)}@${timestamp}`),
      late: ({ value }) => events.push(`late ${String(value.id)}`),
      deadLetter: ({ reason }) => events.push(reason),
    },
  });
  steps.forEach((step, offset) => {
    if ('shipment' in step) {
      const rejected = joins.apply('shipments', { partition: 0, offset, key: null, value: { id: step.shipment, order: step.order, ts: step.at } }).rejected;
      if (rejected !== undefined) events.push(rejected.reason);
    } else task.processRecord({ id: step.order, ts: step.at }, step.at);
  });
  return {
    events,
    state: () =>
      [...stores.get('shipped')!.entries()]
        .map(([key]) => key)
        .filter((key) => !key.startsWith('position/'))
        .sort(),
  };
}

const order = (id: string, at: number): Step => ({ order: id, at });
const shipment = (id: string, orderId: string, at: number): Step => ({ shipment: id, order: orderId, at });

describe('the interval join', () => {
  it.each<[string, Spec, Step[], string[]]>([
    [
      'a shipment within [order + lower, order + upper] joins, whichever arrives first; the result has the later event time',
      {},
      [order('o1', 0), shipment('s1', 'o1', 5), shipment('s2', 'o2', 7), order('o2', 3), shipment('s3', 'o1', 11)],
      ['o1+s1@5', 'o2+s2@7'],
    ],
    [
      'both bounds are inclusive, and may be negative: [ts − 5, ts + 5]',
      { lower: '-5ms', upper: '5ms' },
      [shipment('s4', 'o1', 4), shipment('s5', 'o1', 5), shipment('s15', 'o1', 15), shipment('s16', 'o1', 16), order('o1', 10)],
      ['o1+s5@10', 'o1+s15@15'],
    ],
    [
      'an order meets every buffered shipment of its key in event-time order',
      { lower: '-5ms', upper: '5ms' },
      [shipment('s3', 'o1', 3), shipment('s1', 'o1', 1), order('o1', 2)],
      ['o1+s1@2', 'o1+s3@3'],
    ],
    [
      "a record below the combined watermark (the least of both streams') is late: the late output, never joined",
      {},
      [order('x', 100), shipment('y', 'z', 100), order('o1', 50), shipment('s1', 'x', 98)],
      ['late o1', 'late s1'],
    ],
  ])('%s', (_name, join, steps, expected) => {
    expect(run(ordersWithShipments(join), steps).events).toEqual(expected);
  });

  it("drops a buffered record once the watermark passes its last possible match (Flink's cleanup timers)", () => {
    const { state } = run(ordersWithShipments(), [order('o1', 0), shipment('s1', 'o9', 0), order('o2', 30), shipment('s2', 'o8', 30)]);
    // Combined watermark 29: o1 (cleanup at 0 + 10) and s1 (cleanup at 0) are gone; o2 and s2 stay.
    expect(state()).toEqual(['left/o2', 'right/o8', 'watermark/right']);
  });

  it.each<[string, Spec, string[]]>([
    [
      'an interval join without rightKey',
      { rightKey: undefined },
      ["spec.pipeline[0].join.rightKey: is required for an interval join: the other stream's key, a CEL expression such as customer_id"],
    ],
    ['upper before lower', { lower: '5m', upper: '-5m' }, ['spec.pipeline[0].join.upper: "-5m" is earlier than lower "5m"; swap them']],
    ['a left interval join', { mode: 'left' }, ['spec.pipeline[0].join.mode: "left": an interval join is inner (as Flink\'s); remove mode']],
  ])('refuses %s', (_name, join, expected) => {
    const result = compileJob(ordersWithShipments(join));
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual(expected);
  });
});
