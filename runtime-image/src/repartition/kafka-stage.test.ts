// Stage 2 of a repartitioned job on Kafka, one task: its watermark is the least of the upstream partitions' marks, a restart continues from each one's, and a stop drains it.
import { compileJobOrThrow } from '../compiler/compile.js';
import { type KeyedStateFactory, MemoryKeyedState } from '../state/keyed.js';
import { RepartitionedTask } from './kafka-stage.js';

type Row = Record<string, unknown>;

const plan = compileJobOrThrow({
  apiVersion: 'sluice.dev/v1alpha1',
  kind: 'StreamJob',
  metadata: { name: 'velocity' },
  spec: {
    sources: [
      { name: 'transactions', kafka: { topic: 'transactions' }, format: 'json', eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '0s' } },
    ],
    pipeline: [{ keyBy: { field: 'customer_id' } }, { window: { type: 'tumbling', size: '1m' }, aggregate: [{ name: 'n', fn: 'count' }] }],
    sinks: [{ name: 'out', stdout: {} }],
  },
}).repartition!;

const minute = 60_000;
const record = (from: number, customer: string, at: number): Row => ({
  from,
  time: at,
  value: { customer_id: customer, timestamp: new Date(at).toISOString() },
});
const mark = (from: number, watermark: number | string): Row => ({ from, watermark });

function stage(): { task: RepartitionedTask; fired: Row[] } {
  const fired: Row[] = [];
  const memory: KeyedStateFactory = <V>() => new MemoryKeyedState<V>([]);
  const task = new RepartitionedTask(
    plan.downstream,
    { state: memory, outputs: { result: (r) => fired.push(r.value), late: () => undefined, deadLetter: () => undefined } },
    [0, 1, 2],
    undefined,
    () => 0,
  );
  return { task, fired };
}

describe('a stage 2 task of a repartitioned job on Kafka', () => {
  it('fires a window once every upstream partition’s mark has passed it, not when one has', () => {
    const { task, fired } = stage();
    task.processRecord(record(0, 'c1', 10_000));
    task.processRecord(record(1, 'c1', 20_000));
    task.processRecord(mark(0, 5 * minute));
    task.processRecord(mark(1, 5 * minute));
    expect(fired).toEqual([]);
    expect(task.watermark).toBe(Number.NEGATIVE_INFINITY);
    task.processRecord(mark(2, minute));
    expect(fired).toEqual([{ customer_id: 'c1', window_start: '1970-01-01T00:00:00.000Z', window_end: '1970-01-01T00:01:00.000Z', n: 2 }]);
    expect(task.watermark).toBe(minute);
  });

  it('restarts from each upstream’s mark kept in its offset metadata, not from their least', () => {
    const { task: first } = stage();
    for (const [from, watermark] of [
      [0, 10 * minute],
      [1, 2 * minute],
      [2, '+Infinity'],
    ] as const)
      first.processRecord(mark(from, watermark));
    const metadata = first.metadata();
    expect(metadata).toEqual({ upstream: { 0: 10 * minute, 1: 2 * minute, 2: 'Infinity' } });
    const { task: restarted } = stage();
    restarted.restore(first.watermark, metadata);
    // Only partition 1 moves: partition 0's mark (10 minutes) and partition 2's end still stand.
    restarted.processRecord(mark(1, 20 * minute));
    expect(restarted.watermark).toBe(10 * minute);
  });

  it('is drained for a savepoint once every upstream partition has sent its mark of it, and no longer once one sends more', () => {
    const { task } = stage();
    task.processRecord({ from: 0, stopped: true, barrier: 'sp-1' });
    task.processRecord({ from: 1, stopped: true, barrier: 'sp-1' });
    expect(task.drainedFor('sp-1')).toBe(false);
    expect(task.waitingFor('sp-1')).toEqual([2]);
    task.processRecord({ from: 2, stopped: true, barrier: 'sp-1' });
    expect(task.drainedFor('sp-1')).toBe(true);
    task.processRecord(record(1, 'c1', 10_000));
    expect(task.drainedFor('sp-1')).toBe(false);
  });

  it('counts an upstream partition that ended (its +∞ mark) as drained for any savepoint: it writes nothing more', () => {
    const { task } = stage();
    task.processRecord(mark(0, '+Infinity'));
    task.processRecord({ from: 1, stopped: true, barrier: 'sp-1' });
    expect(task.waitingFor('sp-1')).toEqual([2]);
    task.processRecord(mark(2, '+Infinity'));
    expect(task.drainedFor('sp-1')).toBe(true);
  });

  it("does not take an earlier savepoint's marks for the next one's: an idle upstream's old mark is not its new one", () => {
    const { task } = stage();
    for (const from of [0, 1, 2]) task.processRecord({ from, stopped: true, barrier: 'sp-1' });
    // Upstream 0 wrote more and marked sp-2; 1 and 2 have marked sp-2 but stage 2 has not read their marks yet.
    task.processRecord(record(0, 'c1', 20_000));
    task.processRecord({ from: 0, stopped: true, barrier: 'sp-2' });
    expect(task.drainedFor('sp-2')).toBe(false);
    expect(task.waitingFor('sp-2')).toEqual([1, 2]);
    for (const from of [1, 2]) task.processRecord({ from, stopped: true, barrier: 'sp-2' });
    expect(task.drainedFor('sp-2')).toBe(true);
  });
});
