import { type AggregateSpec, compileAggregates } from '../aggregate/aggregates.js';
import { keyByFields } from '../dataflow/keys.js';
import type { OperatorContext } from '../dataflow/operator.js';
import { type DrivenOperator, driveOperator, type EmittedEvent, type OperatorSnapshot } from '../dataflow/operator-fixture.js';
import { WATERMARK_END } from '../time/watermark.js';
import { type WindowAssigner, session, sliding, tumbling } from './assigners.js';
import { WindowOperator } from './operator.js';

type RecordStep = { record: number; k?: string; v?: unknown };
type Step = RecordStep | { watermark: number };
type Event = EmittedEvent;
type Snapshot = OperatorSnapshot;

interface Case {
  name: string;
  assigner: WindowAssigner;
  allowedLateness: number;
  steps: Step[];
  expected: Event[];
  /** State entries left after the last step. */
  remaining?: number;
}

const aggregates: AggregateSpec[] = [
  { name: 'n', fn: 'count' },
  { name: 'v', fn: 'sum', field: 'v' },
];

const iso = (ms: number) => new Date(ms).toISOString();
const r = (record: number, k = 'a', v: unknown = 1): Step => ({ record, k, v });
const w = (watermark: number): Step => ({ watermark });
const fired = (k: string, start: number, end: number, n: number, v: number = n): Event => ({
  result: { k, window_start: iso(start), window_end: iso(end), n, v },
  timestamp: end - 1,
});
const late = (timestamp: number): Event => ({ late: timestamp });

/** Runs one window operator over the steps, optionally from a snapshot; returns what it emitted and a snapshot of where it ended. */
function run(testCase: Case, steps: readonly Step[], from?: Snapshot): DrivenOperator {
  const build = (context: OperatorContext) =>
    new WindowOperator(
      { assigner: testCase.assigner, allowedLateness: testCase.allowedLateness, key: keyByFields(['k']), aggregates: compileAggregates(aggregates) },
      context,
    );
  return driveOperator('window-1', build, steps, (step: RecordStep) => ({ value: { k: step.k, v: step.v }, timestamp: step.record }), from);
}

const cases: Case[] = [
  {
    name: 'tumbling: fires when the watermark reaches end − 1, not before',
    assigner: tumbling(10),
    allowedLateness: 0,
    steps: [r(1), r(5), r(12), w(8), w(9), w(19)],
    expected: [fired('a', 0, 10, 2), fired('a', 10, 20, 1)],
    remaining: 0,
  },
  {
    name: 'tumbling: keys firing together come out in key order',
    assigner: tumbling(10),
    allowedLateness: 0,
    steps: [r(1, 'b'), r(2, 'a'), r(3, 'b'), w(WATERMARK_END)],
    expected: [fired('a', 0, 10, 1), fired('b', 0, 10, 2)],
    remaining: 0,
  },
  {
    name: 'tumbling: a watermark jump fires windows in end order',
    assigner: tumbling(10),
    allowedLateness: 0,
    steps: [r(25, 'a'), r(3, 'b'), r(14, 'c'), w(100)],
    expected: [fired('b', 0, 10, 1), fired('c', 10, 20, 1), fired('a', 20, 30, 1)],
    remaining: 0,
  },
  {
    // [0, 10): end − 1 = 9; lateness 0, so a record is late once the watermark is 9.
    name: 'lateness 0: end − 1 == watermark is late, one less is not',
    assigner: tumbling(10),
    allowedLateness: 0,
    steps: [r(1), w(8), r(2), w(9), r(3)],
    expected: [fired('a', 0, 10, 2), late(3)],
    remaining: 0,
  },
  {
    // [0, 10): fires at 9, cleaned up at 9 + 5 = 14.
    name: 'lateness 5: late-but-allowed records re-fire at once; end − 1 + 5 == watermark is late',
    assigner: tumbling(10),
    allowedLateness: 5,
    steps: [r(1), w(9), r(2), w(13), r(3, 'a', 10), w(14), r(4)],
    expected: [fired('a', 0, 10, 1), fired('a', 0, 10, 2), fired('a', 0, 10, 3, 12), late(4)],
    remaining: 0,
  },
  {
    name: 'lateness 5: a window that first gets data while late-but-allowed fires at once',
    assigner: tumbling(10),
    allowedLateness: 5,
    steps: [r(15), w(10), r(7, 'b'), w(WATERMARK_END)],
    expected: [fired('b', 0, 10, 1), fired('a', 10, 20, 1)],
    remaining: 0,
  },
  {
    name: 'lateness keeps the state until cleanup, then it vanishes',
    assigner: tumbling(10),
    allowedLateness: 100,
    steps: [r(1), r(11), w(108)],
    expected: [fired('a', 0, 10, 1), fired('a', 10, 20, 1)],
    // [0, 10) is dropped at 109, [10, 20) at 119: both still there at 108.
    remaining: 2,
  },
  {
    name: 'cleanup drops exactly the windows whose time has come',
    assigner: tumbling(10),
    allowedLateness: 100,
    steps: [r(1), r(11), w(109)],
    expected: [fired('a', 0, 10, 1), fired('a', 10, 20, 1)],
    remaining: 1,
  },
  {
    // size 10, slide 5: ts 7 → [5, 15) and [0, 10); ts 8 after watermark 9 only → [5, 15).
    name: 'sliding: a record late for some of its windows goes to the others; late for all, to the late output',
    assigner: sliding(10, 5),
    allowedLateness: 0,
    steps: [r(7), w(9), r(8), w(14), r(12), w(19), r(13)],
    expected: [fired('a', 0, 10, 1), fired('a', 5, 15, 2), fired('a', 10, 20, 1), late(13)],
    remaining: 0,
  },
  {
    name: 'sliding: every window of a record fires, in end order',
    assigner: sliding(10, 5),
    allowedLateness: 0,
    steps: [r(7, 'a', 2), r(11, 'a', 3), w(WATERMARK_END)],
    // 7 → [5, 15), [0, 10); 11 → [10, 20), [5, 15).
    expected: [fired('a', 0, 10, 1, 2), fired('a', 5, 15, 2, 5), fired('a', 10, 20, 1, 3)],
    remaining: 0,
  },
  {
    name: 'session: records further apart than the gap make two sessions',
    assigner: session(10),
    allowedLateness: 0,
    steps: [r(0), r(21), w(9), w(30)],
    expected: [fired('a', 0, 10, 1), fired('a', 21, 31, 1)],
    remaining: 0,
  },
  {
    name: 'session: a record within the gap extends the session',
    assigner: session(10),
    allowedLateness: 0,
    steps: [r(0), r(5), w(9), w(14)],
    expected: [fired('a', 0, 15, 2)],
    remaining: 0,
  },
  {
    // [0, 10) and [20, 30); the record at 10 opens [10, 20), which touches both: one session [0, 30).
    name: 'session: a bridging record merges two sessions and their accumulators',
    assigner: session(10),
    allowedLateness: 0,
    steps: [r(0, 'a', 1), r(20, 'a', 2), r(10, 'a', 4), w(29)],
    expected: [fired('a', 0, 30, 3, 7)],
    remaining: 0,
  },
  {
    name: 'session: sessions of different keys never merge',
    assigner: session(10),
    allowedLateness: 0,
    steps: [r(0, 'a'), r(5, 'b'), w(WATERMARK_END)],
    expected: [fired('a', 0, 10, 1), fired('b', 5, 15, 1)],
    remaining: 0,
  },
  {
    // [0, 10) fired at 12; the bridge at 10 merges it with [20, 30) into [0, 30), whose end − 1 = 29 is ahead: it fires at 29.
    name: 'session: a fired session merged with a pending one fires as the merged window at its end',
    assigner: session(10),
    allowedLateness: 100,
    steps: [r(0), r(20), w(12), r(10), w(28), w(29)],
    expected: [fired('a', 0, 10, 1), fired('a', 0, 30, 3)],
    remaining: 1,
  },
  {
    // Both fired by 29; the bridge merges them into [0, 30), already due: it fires at once. Cleanup at 29 + 100.
    name: 'session: two fired sessions merged by a late-but-allowed record re-fire at once as one',
    assigner: session(10),
    allowedLateness: 100,
    steps: [r(0), r(20), w(29), r(10), w(128), r(6), w(129), r(7)],
    expected: [fired('a', 0, 10, 1), fired('a', 20, 30, 1), fired('a', 0, 30, 3), fired('a', 0, 30, 4), late(7)],
    remaining: 0,
  },
  {
    // [10, 20) alone would be late at watermark 19 (end − 1 = 19), but it touches [20, 35), so the merged [10, 35) takes it.
    name: 'session: a record late for its own window is taken by the live session it extends',
    assigner: session(10),
    allowedLateness: 0,
    steps: [r(20), r(25), w(19), r(9), r(10), w(34)],
    expected: [late(9), fired('a', 10, 35, 3)],
    remaining: 0,
  },
  {
    name: 'end of input (+∞) fires everything and leaves no state',
    assigner: session(10),
    allowedLateness: 50,
    steps: [r(0), r(100), r(105, 'b'), w(WATERMARK_END)],
    expected: [fired('a', 0, 10, 1), fired('a', 100, 110, 1), fired('b', 105, 115, 1)],
    remaining: 0,
  },
];

describe('WindowOperator', () => {
  it.each(cases)('$name', (testCase) => {
    const { events, entries } = run(testCase, testCase.steps);
    expect(events).toEqual(testCase.expected);
    if (testCase.remaining !== undefined) expect(entries).toBe(testCase.remaining);
  });

  it.each(cases)('$name: restored from its state after any step, it emits the rest the same', (testCase) => {
    const whole = run(testCase, testCase.steps).events;
    for (let split = 0; split <= testCase.steps.length; split++) {
      const before = run(testCase, testCase.steps.slice(0, split));
      const after = run(testCase, testCase.steps.slice(split), JSON.parse(JSON.stringify(before.snapshot)) as Snapshot);
      expect([...before.events, ...after.events]).toEqual(whole);
    }
  });

  it.each<[string, Step, string]>([
    ['a missing key', { record: 1, v: 1 }, 'window-1: key k is missing'],
    ['a value that is not a number', r(1, 'a', 'x'), 'window-1: aggregate v: v is "x", not a number'],
  ])('sends a record with %s to the dead letters and goes on', (_, bad, reason) => {
    const testCase: Case = { name: '', assigner: tumbling(10), allowedLateness: 0, steps: [], expected: [] };
    const { events, entries } = run(testCase, [r(1), bad, r(2), w(9)]);
    expect(events).toEqual([{ deadLetter: reason }, fired('a', 0, 10, 2)]);
    expect(entries).toBe(0);
  });

  it('skips null values in aggregates but counts the record', () => {
    const testCase: Case = { name: '', assigner: tumbling(10), allowedLateness: 0, steps: [], expected: [] };
    expect(run(testCase, [r(1, 'a', null), r(2, 'a', 5), w(9)]).events).toEqual([fired('a', 0, 10, 2, 5)]);
  });
});
