// The engine's record and the Operator contract: operators push records and watermarks to the next one synchronously (chaining).
import type { KeyedState, StateCodec } from '../state/keyed.js';
import type { KeyValue } from './keys.js';

export interface StreamRecord {
  value: Record<string, unknown>;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  /** The source message's key, where it has one. */
  key?: string;
}

/** A record the task could not process, with the reason: the operator id and the error. */
export interface DeadLetter {
  reason: string;
  record: StreamRecord;
}

/** Where an operator pushes what it produces: the next operator, or the task's main output. */
export interface Output {
  record(record: StreamRecord): void;
  watermark(watermark: number): void;
}

export interface Operator {
  readonly id: string;
  processRecord(record: StreamRecord): void;
  /** The watermark moved forward: fire what is due, then pass it on. */
  processWatermark(watermark: number): void;
  /** The task's state was restored: rebuild what the operator holds in memory (timers) as of `watermark`. */
  restore(watermark: number): void;
  /**
   * Set by operators that emit asynchronously (score, which calls out over HTTP): undefined while they have room for
   * more input, else a promise the source waits on before it reads on (backpressure).
   */
  room?(): Promise<void> | undefined;
  /**
   * Set by operators with keyed state: deletes everything held for the keys whose first field is `subject` (a GDPR
   * erasure, see erasure/), timers included; returns how many state entries it deleted.
   */
  eraseKey?(subject: KeyValue): number;
  /** Set with room: holds input back and resolves, once every record handed in has been emitted, with the function that lets input in again. */
  settle?(): Promise<() => void>;
}

/** What a task gives each operator it creates. */
export interface OperatorContext {
  readonly operatorId: string;
  readonly output: Output;
  /** A record too late for every window it belongs to. */
  late(record: StreamRecord): void;
  /** A record that failed in this operator (a user function threw, a value cannot be aggregated); the task goes on. */
  deadLetter(reason: string, record: StreamRecord): void;
  keyedState<V>(codec: StateCodec<V>): KeyedState<V>;
}
