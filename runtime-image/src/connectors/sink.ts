// The sink contract: results are buffered by `write` and made durable, idempotently where the target allows, by `commit`.
import type { DeadLetter, StreamRecord } from '../dataflow/operator.js';

/** A result as the engine emits it. */
export type SinkRecord = StreamRecord;
/** A result a sink cannot write goes to the task's dead-letter output, with the reason. */
export type { DeadLetter };

export interface Sink {
  /** Prepares before the first write (a Kafka sink looks up its schema subject); the job does not start when it rejects. */
  start?(): Promise<void>;
  /** Buffers one result; nothing is guaranteed written before `commit`. Returns a dead letter when the result cannot be written. */
  write(record: SinkRecord): DeadLetter | undefined;
  /** Writes everything buffered; resolves once it is in the target. Called once per commit interval. */
  commit(): Promise<void>;
  /** Commits what is buffered and releases the target. */
  close(): Promise<void>;
}

/** A dead letter's reason is at most this many UTF-8 bytes: a reason quoting a huge value must not make a huge dead letter. */
export const MAX_REASON_BYTES = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The reason cut to MAX_REASON_BYTES (never inside a character), saying that it was cut. */
export function boundedReason(reason: string): string {
  if (reason.length <= MAX_REASON_BYTES / 3) return reason;
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  const cut = ` … (reason cut at ${MAX_REASON_BYTES} bytes)`;
  const room = new Uint8Array(MAX_REASON_BYTES - Buffer.byteLength(cut));
  const { written } = encoder.encodeInto(reason, room);
  return `${decoder.decode(room.subarray(0, written))}${cut}`;
}
