// For unit tests of a keyed operator: drives it by hand over records and watermarks, on in-memory state, from an optional snapshot.
import { type Json, MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import type { Operator, OperatorContext, StreamRecord } from './operator.js';

/** What the operator emitted, in order: a result with its event time, a late record's time, or a dead-letter reason. */
export type EmittedEvent = { result: Record<string, unknown>; timestamp: number } | { late: number } | { deadLetter: string };

/** The operator's keyed state (as JSON) and the watermark it had reached. */
export interface OperatorSnapshot {
  entries: [string, Json][];
  watermark: number;
}

export interface DrivenOperator {
  events: EmittedEvent[];
  /** Where the operator ended: restore a new one `from` it to test recovery. */
  snapshot: OperatorSnapshot;
  /** State entries left after the last step. */
  entries: number;
}

/**
 * Builds the operator on a context that records what it emits, restores it `from` a snapshot when given, and feeds it
 * the steps: a step with `watermark` advances the watermark, any other is turned into a record by `toRecord`.
 */
export function driveOperator<Step extends object>(
  operatorId: string,
  build: (context: OperatorContext) => Pick<Operator, 'processRecord' | 'processWatermark' | 'restore'>,
  steps: readonly (Step | { watermark: number })[],
  toRecord: (step: Step) => StreamRecord,
  from?: OperatorSnapshot,
): DrivenOperator {
  const events: EmittedEvent[] = [];
  let snapshotOf: () => [string, Json][] = () => [];
  let entries = (): number => 0;
  const context: OperatorContext = {
    operatorId,
    output: { record: ({ value, timestamp }) => events.push({ result: value, timestamp }), watermark: () => undefined },
    late: ({ timestamp }) => events.push({ late: timestamp }),
    deadLetter: (reason) => events.push({ deadLetter: reason }),
    keyedState: <V>(codec: StateCodec<V>) => {
      const state = new MemoryKeyedState<V>((from?.entries ?? []).map(([key, json]) => [key, codec.decode(json)] as const));
      snapshotOf = () => [...state.entries()].map(([key, value]) => [key, JSON.parse(JSON.stringify(codec.encode(value))) as Json]);
      entries = () => [...state.entries()].length;
      return state;
    },
  };
  const operator = build(context);
  let watermark = from?.watermark ?? Number.NEGATIVE_INFINITY;
  if (from !== undefined) operator.restore(from.watermark);
  for (const step of steps) {
    if ('watermark' in step) {
      watermark = step.watermark;
      operator.processWatermark(step.watermark);
    } else {
      operator.processRecord(toRecord(step));
    }
  }
  return { events, snapshot: { entries: snapshotOf(), watermark }, entries: entries() };
}
