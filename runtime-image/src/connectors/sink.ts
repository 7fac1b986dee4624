// The sink contract: results are buffered by `write` and made durable, idempotently where the target allows, by `commit`.
import type { KeyValue } from '../dataflow/keys.js';
import type { DeadLetter, StreamRecord } from '../dataflow/operator.js';

/** A result as the engine emits it. */
export type SinkRecord = StreamRecord;
/** A result a sink cannot write goes to the task's dead-letter output, with the reason. */
export type { DeadLetter };

export interface Sink {
  /** Prepares before the first write (a Kafka sink looks up its schema subject); the job does not start when it rejects. */
  start?(): Promise<void>;
  /**
   * Buffers one result; nothing is guaranteed written before `commit`. Returns a dead letter when the result cannot be
   * written. `partition`: the source partition whose task produced it (a runtime pod gives it; streamctl run does not).
   */
  write(record: SinkRecord, partition?: number): DeadLetter | undefined;
  /** Writes everything buffered; resolves once it is in the target. Called once per commit interval. */
  commit(): Promise<void>;
  /*
   * A sink whose writes are not idempotent (the S3 lake's files) commits with the Kafka transaction instead, through
   * the four optional methods below (Flink's two-phase commit sinks): `stage` takes the results into the transaction
   * as it takes the offsets, `commit` makes them durable but invisible, the transaction records in each partition's
   * committed offset metadata what was staged (`offsetMetadata`), `committed` makes it visible, and `recover`, on
   * start, keeps what the last committed transaction recorded and drops the rest.
   */
  /** Called synchronously when a transaction takes what it carries; returns the partitions it staged results of, whose offsets the transaction commits. */
  stage?(): number[];
  /** Fields kept in the partition's committed offset metadata by every transaction that commits its offset. */
  offsetMetadata?(partition: number): Record<string, unknown>;
  /** The transaction `stage` went into has committed. */
  committed?(): Promise<void>;
  /** Before the first record: each owned partition's committed offset metadata (empty where none was committed). */
  recover?(committed: ReadonlyMap<number, Record<string, unknown>>): Promise<void>;
  /**
   * A GDPR erasure (erasure/): deletes, in order with the writes around it, what the sink holds for results whose
   * `field` is `subject`, where the sink can name it. Returns false when it cannot (its keys use other fields too).
   */
  erase?(field: string, subject: KeyValue): boolean;
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
