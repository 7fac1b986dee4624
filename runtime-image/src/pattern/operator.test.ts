// The pattern operator against hand-computed matches: contiguity, times/orMore, within, skip-past-last-event, event-time order, late records, keys, select, restore.
import { compileCel } from '../compiler/cel.js';
import { keyByFields } from '../dataflow/keys.js';
import type { OperatorContext } from '../dataflow/operator.js';
import { type DrivenOperator, driveOperator, type EmittedEvent, type OperatorSnapshot } from '../dataflow/operator-fixture.js';
import type { Json } from '../state/keyed.js';
import { WATERMARK_END } from '../time/watermark.js';
import { PatternOperator, type PatternOperatorOptions, type PatternStageSpec } from './operator.js';

type Row = Record<string, unknown>;
type RecordStep = { at: number; e: string; k: string; u?: string };
type Step = RecordStep | { watermark: number };
type Event = EmittedEvent;
type Snapshot = OperatorSnapshot;

interface Case {
  name: string;
  stages: PatternStageSpec[];
  within: number;
  select?: PatternOperatorOptions['select'];
  steps: Step[];
  expected: Event[];
  /** Keys with state left after the last step. */
  remaining?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A record of key `k` at event time `at` whose field e is `e` (a, b, f, s, x…); stages match on e. */
const r = (at: number, e: string, k = 'k1', u?: string): Step => (u === undefined ? { at, e, k } : { at, e, k, u });
const w = (watermark: number): Step => ({ watermark });
const end = w(WATERMARK_END);
const late = (timestamp: number): Event => ({ late: timestamp });

/** A stage whose condition is `e == <letter>` (or one of several letters). */
function stage(name: string, letters: string, settings: Partial<Omit<PatternStageSpec, 'name' | 'condition'>> = {}): PatternStageSpec {
  return { name, times: 1, orMore: false, contiguity: 'followedBy', ...settings, condition: (value) => letters.split('|').includes(value.e as string) };
}

/** The result without select: the key, the match's first and last record's times, each stage's count; its event time is the last record's. */
function matched(k: string, start: number, last: number, counts: Record<string, number>): Event {
  const result: Row = { k, match_start: iso(start), match_end: iso(last) };
  for (const [name, count] of Object.entries(counts)) result[`${name}_count`] = count;
  return { result, timestamp: last };
}

/** Runs one pattern operator over the steps, optionally from a snapshot; returns what it emitted and a snapshot of where it ended. */
function run(testCase: Case, steps: readonly Step[], from?: Snapshot): DrivenOperator {
  const { stages, within, select } = testCase;
  const build = (context: OperatorContext) =>
    new PatternOperator({ key: keyByFields(['k']), stages, within, ...(select === undefined ? {} : { select }) }, context);
  return driveOperator('pattern-2', build, steps, ({ at, ...value }: RecordStep) => ({ value, timestamp: at }), from);
}

const failuresThenSuccess = (failures: Partial<PatternStageSpec>): PatternStageSpec[] => [stage('f', 'f', failures), stage('s', 's')];

const cases: Case[] = [
  {
    name: 'followedBy (relaxed) skips records that meet no condition between stages',
    stages: [stage('a', 'a'), stage('b', 'b')],
    within: 100,
    steps: [r(1, 'a'), r(2, 'x'), r(3, 'b'), end],
    expected: [matched('k1', 1, 3, { a: 1, b: 1 })],
    remaining: 0,
  },
  {
    name: 'next (strict) needs the very next record of the key: a x b does not match, a b does',
    stages: [stage('a', 'a'), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(1, 'a'), r(2, 'x'), r(3, 'b'), r(4, 'a'), r(5, 'b'), end],
    expected: [matched('k1', 4, 5, { a: 1, b: 1 })],
    remaining: 0,
  },
  {
    name: 'next after a loop: the loop waits through x, but b must follow its last record directly, so a x b does not match and a x a b does',
    stages: [stage('a', 'a', { orMore: true }), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(1, 'a'), r(2, 'x'), r(3, 'b'), r(4, 'a'), r(5, 'b'), end],
    expected: [matched('k1', 1, 5, { a: 2, b: 1 })],
  },
  {
    name: 'skip-past-last-event also drops the runs the match did not complete: f3’s run started before s4, so f3 f5 s6 is no match',
    stages: failuresThenSuccess({ times: 2 }),
    within: 100,
    steps: [r(1, 'f'), r(2, 'f'), r(3, 'f'), r(4, 's'), r(5, 'f'), r(6, 's'), end],
    expected: [matched('k1', 1, 4, { f: 2, s: 1 })],
  },
  {
    name: 'times(3) is relaxed within the stage: f x f f s is a match of three failures',
    stages: failuresThenSuccess({ times: 3 }),
    within: 100,
    steps: [r(1, 'f'), r(2, 'x'), r(3, 'f'), r(4, 'f'), r(5, 's'), end],
    expected: [matched('k1', 1, 5, { f: 3, s: 1 })],
  },
  {
    name: 'times(3) takes exactly three: of the runs from f1 and f2 that meet s at 5, the earliest start is reported',
    stages: failuresThenSuccess({ times: 3 }),
    within: 100,
    steps: [r(1, 'f'), r(2, 'f'), r(3, 'f'), r(4, 'f'), r(5, 's'), end],
    expected: [matched('k1', 1, 5, { f: 3, s: 1 })],
  },
  {
    name: 'times(3) then next: f f f f s matches from the second failure, the three right before the success',
    stages: [stage('f', 'f', { times: 3 }), stage('s', 's', { contiguity: 'next' })],
    within: 100,
    steps: [r(1, 'f'), r(2, 'f'), r(3, 'f'), r(4, 'f'), r(5, 's'), end],
    expected: [matched('k1', 2, 5, { f: 3, s: 1 })],
  },
  {
    name: 'timesOrMore(3) takes every failure before the success; two failures are not enough',
    stages: failuresThenSuccess({ times: 3, orMore: true }),
    within: 100,
    steps: [r(1, 'f'), r(2, 'f'), r(3, 's'), r(4, 'f'), r(5, 'f'), r(6, 'x'), r(7, 'f'), r(8, 'f'), r(9, 's'), end],
    expected: [matched('k1', 1, 9, { f: 6, s: 1 })],
  },
  {
    name: 'timesOrMore as the last stage reports a match as soon as it has its minimum, then starts afresh after it',
    stages: [stage('f', 'f', { times: 2, orMore: true })],
    within: 100,
    steps: [r(1, 'f'), r(2, 'f'), r(3, 'f'), r(4, 'f'), r(5, 'f'), end],
    expected: [matched('k1', 1, 2, { f: 2 }), matched('k1', 3, 4, { f: 2 })],
    remaining: 0,
  },
  {
    name: 'within: a match spans less than within; the run from 0 cannot take the success at 10, the one from 1 can',
    stages: failuresThenSuccess({ times: 3 }),
    within: 10,
    steps: [r(0, 'f'), r(1, 'f'), r(5, 'f'), r(8, 'f'), r(10, 's'), end],
    expected: [matched('k1', 1, 10, { f: 3, s: 1 })],
  },
  {
    name: 'within: with no later failure to start from, nothing matches',
    stages: failuresThenSuccess({ times: 3 }),
    within: 10,
    steps: [r(0, 'f'), r(5, 'f'), r(8, 'f'), r(10, 's'), end],
    expected: [],
  },
  {
    name: 'within: partial matches are dropped once the watermark passes start + within − 1, and the key’s state with them',
    stages: failuresThenSuccess({ times: 3 }),
    within: 10,
    steps: [r(0, 'f'), r(1, 'f'), w(8)],
    expected: [],
    remaining: 1,
  },
  {
    name: 'within: … at start + within − 1 of the last run the key holds nothing',
    stages: failuresThenSuccess({ times: 3 }),
    within: 10,
    steps: [r(0, 'f'), r(1, 'f'), w(9), w(10)],
    expected: [],
    remaining: 0,
  },
  {
    name: 'skip-past-last-event: a1 a2 b3 reports only a1 b3 (a2’s run started before b3), b4 has nothing to complete, a5 b6 matches',
    stages: [stage('a', 'a'), stage('b', 'b')],
    within: 100,
    steps: [r(1, 'a'), r(2, 'a'), r(3, 'b'), r(4, 'b'), r(5, 'a'), r(6, 'b'), end],
    expected: [matched('k1', 1, 3, { a: 1, b: 1 }), matched('k1', 5, 6, { a: 1, b: 1 })],
  },
  {
    name: 'out-of-order records are matched in event-time order once the watermark passes them: b3 arriving before a2 still follows it',
    stages: [stage('a', 'a'), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(3, 'b'), r(2, 'a'), w(1), w(3)],
    expected: [matched('k1', 2, 3, { a: 1, b: 1 })],
    remaining: 0,
  },
  {
    name: 'records with the same event time keep their arrival order: a x b at 2 is no strict match',
    stages: [stage('a', 'a'), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(2, 'a'), r(2, 'x'), r(2, 'b'), end],
    expected: [],
  },
  {
    name: '… and a b x at 2 is one',
    stages: [stage('a', 'a'), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(2, 'a'), r(2, 'b'), r(2, 'x'), end],
    expected: [matched('k1', 2, 2, { a: 1, b: 1 })],
  },
  {
    name: 'a record the watermark has already passed goes to the late output; one just after it is matched',
    stages: [stage('a', 'a'), stage('b', 'b')],
    within: 100,
    steps: [r(1, 'a'), w(10), r(10, 'b'), r(11, 'b'), end],
    expected: [late(10), matched('k1', 1, 11, { a: 1, b: 1 })],
  },
  {
    name: 'keys are matched apart: k1 a1 b3 are consecutive for k1 although k2’s records come between; k2’s a2 x4 b5 are not',
    stages: [stage('a', 'a'), stage('b', 'b', { contiguity: 'next' })],
    within: 100,
    steps: [r(1, 'a', 'k1'), r(2, 'a', 'k2'), r(3, 'b', 'k1'), r(4, 'x', 'k2'), r(5, 'b', 'k2'), end],
    expected: [matched('k1', 1, 3, { a: 1, b: 1 })],
    remaining: 0,
  },
  {
    name: 'non-greedy loops: a record that meets the loop and the next stage both extends the loop and proceeds',
    stages: [stage('a', 'a|ab', { orMore: true }), stage('b', 'b|ab', { contiguity: 'next' }), stage('c', 'c', { contiguity: 'next' })],
    within: 100,
    steps: [r(1, 'a'), r(2, 'ab'), r(3, 'c'), end],
    expected: [matched('k1', 1, 3, { a: 1, b: 1, c: 1 })],
  },
  {
    name: 'select builds the result from the match, each stage’s name the list of its records',
    stages: failuresThenSuccess({ times: 2, orMore: true }),
    within: 100,
    select: (() => {
      const user = compileCel('s[0].u');
      const count = compileCel('size(f)');
      const first = compileCel('f[0].u');
      return (match: Record<string, Row[]>) => ({ user: user.evaluate(match), failures: count.evaluate(match), first: first.evaluate(match) });
    })(),
    steps: [r(1, 'f', 'k1', 'U1'), r(2, 'f', 'k1', 'U2'), r(3, 'f', 'k1', 'U3'), r(4, 's', 'k1', 'U9'), end],
    expected: [{ result: { user: 'U9', failures: 3, first: 'U1' }, timestamp: 4 }],
  },
];

describe('the pattern operator', () => {
  it.each(cases)('$name', (testCase) => {
    const { events, entries } = run(testCase, testCase.steps);
    expect(events).toEqual(testCase.expected);
    if (testCase.remaining !== undefined) expect(entries).toBe(testCase.remaining);
  });

  it.each(cases)('gives the same results restored from a snapshot after every step: $name', (testCase) => {
    for (let split = 1; split < testCase.steps.length; split++) {
      const first = run(testCase, testCase.steps.slice(0, split));
      const second = run(testCase, testCase.steps.slice(split), first.snapshot);
      expect([...first.events, ...second.events]).toEqual(testCase.expected);
    }
  });

  it('dead-letters the last record of a match its select fails on, with the reason, and goes on', () => {
    const user = compileCel('s[0].u');
    const testCase: Case = {
      name: 'a select over a field one success lacks',
      stages: [stage('f', 'f'), stage('s', 's')],
      within: 100,
      select: (match) => ({ user: user.evaluate(match) }),
      steps: [r(1, 'f'), r(2, 's'), r(3, 'f'), r(4, 's', 'k1', 'U4'), end],
      expected: [],
    };
    expect(run(testCase, testCase.steps).events).toEqual([
      { deadLetter: expect.stringMatching(/^pattern-2: select failed on the match ending at 1970-01-01T00:00:00\.002Z: .*\bu\b/) as unknown },
      { result: { user: 'U4' }, timestamp: 4 },
    ]);
  });

  it('dead-letters a record whose condition is not true or false, naming the stage, and goes on', () => {
    const testCase: Case = {
      name: 'a condition that returns a string',
      stages: [{ ...stage('a', 'a'), condition: (value) => (value.e === 'odd' ? 'yes' : value.e === 'a') }, stage('b', 'b')],
      within: 100,
      steps: [r(1, 'a'), r(2, 'odd'), r(3, 'b'), end],
      expected: [],
    };
    expect(run(testCase, testCase.steps).events).toEqual([
      { deadLetter: 'pattern-2: the condition of stage a returned "yes", not true or false' },
      matched('k1', 1, 3, { a: 1, b: 1 }),
    ]);
  });
});

describe('the pattern state', () => {
  it('holds each record the partial matches took once, however many partial matches took it', () => {
    const testCase: Case = {
      name: 'five failures, no success yet',
      stages: failuresThenSuccess({ times: 3, orMore: true }),
      within: 100,
      steps: [],
      expected: [],
    };
    const { snapshot } = run(testCase, [r(1, 'f'), r(2, 'f'), r(3, 'f'), r(4, 'f'), r(5, 'f'), w(5)]);
    const [[, state]] = snapshot.entries as [[string, { records: [number, ...Json[]][]; runs: Json[] }]];
    // Five partial matches (one from each failure) holding 5 + 4 + 3 + 2 + 1 records between them.
    expect(state.runs).toHaveLength(5);
    expect(state.records.map(([index]) => index)).toEqual([0, 1, 2, 3, 4]);
  });
});
