// The keyed state a job's operators get in one task: the job's TTL (spec.state.ttl), except for operators that drop their own state.
import type { CompiledJob } from '../compiler/job.js';
import type { Dataflow } from '../dataflow/datastream.js';
import { systemClock } from '../time/clock.js';
import type { Clock } from '../time/watermark.js';
import type { StateTtl } from './cached-keyed-state.js';
import type { KeyedStateFactory } from './keyed.js';
import type { TaskState } from './task-state.js';

/** A join's table is the latest row of each key for as long as the table holds it (a tombstone deletes it), and its read position lives beside it: a TTL would drop rows still valid. */
const TABLE_HOLDING = ['join'];

/**
 * Operator kinds whose state ends with its time, as the CRD's spec.state.ttl says: a window's once the watermark
 * passes end − 1 + allowedLateness, a dedupe's or pattern's when its interval has passed. A TTL there could drop a
 * window that is still open but quiet.
 */
const SELF_CLEANING: ReadonlySet<string> = new Set(['window', 'dedupe', 'pattern', ...TABLE_HOLDING]);

/**
 * The job's TTL for TaskState, in processing time as Flink's state TTL counts it, read from `clock` (a test's manual
 * one moves it); undefined when spec.state.ttl is not set.
 */
export function jobStateTtl(job: Pick<CompiledJob, 'stateTtl'>, clock: Clock = systemClock.now): StateTtl | undefined {
  return job.stateTtl === undefined ? undefined : { ms: job.stateTtl, clock };
}

/** The factory a task's operators get their keyed state from: self-cleaning operators without the TTL, the others with it. */
export function operatorStates(dataflow: Dataflow, state: TaskState): KeyedStateFactory {
  const exempt = new Set(dataflow.nodes.filter((node) => SELF_CLEANING.has(node.kind)).map((node) => node.id));
  return (operatorId, codec) => state.keyedState(operatorId, codec, exempt.has(operatorId) ? { ttl: null } : {});
}
