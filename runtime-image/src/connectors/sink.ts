// The sink contract: results are buffered by `write` and made durable, idempotently where the target allows, by `commit`.
import type { DeadLetter, StreamRecord } from '../dataflow/operator.js';

/** A result as the engine emits it. */
export type SinkRecord = StreamRecord;
/** A result a sink cannot write goes to the task's dead-letter output, with the reason. */
export type { DeadLetter };

export interface Sink {
  /** Buffers one result; nothing is guaranteed written before `commit`. Returns a dead letter when the result cannot be written. */
  write(record: SinkRecord): DeadLetter | undefined;
  /** Writes everything buffered; resolves once it is in the target. Called once per commit interval. */
  commit(): Promise<void>;
  /** Commits what is buffered and releases the target. */
  close(): Promise<void>;
}
