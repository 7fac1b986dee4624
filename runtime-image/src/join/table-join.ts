// The stream–table join operator: each stream record meets the latest row of a table under its key; the table lives in the task's keyed state.
import type { KeyValue } from '../dataflow/keys.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';
import { subjectForms } from '../erasure/subject.js';
import { messageOf, showValue } from '../error-message.js';
import type { Json, KeyedState, StateCodec } from '../state/keyed.js';
import { ReadPositions } from './read-positions.js';

type Row = Record<string, unknown>;

/** One message of the table's input: a row under its key, or a tombstone (value null) that deletes the key. */
export interface TableChange {
  partition: number;
  offset: number;
  /** The message key as text (Kafka), or the `key` of a file line; null when the message has none. */
  key: string | null;
  value: Row | null;
}

export interface TableJoinOptions {
  /** The table's source name (join.with). */
  table: string;
  /** This stream record's join key. */
  leftKey: (record: Row) => unknown;
  /** The table row's key; absent: the message key. */
  rightKey?: (row: Row) => unknown;
  /** inner drops a record without a row; left emits it with `into: null`. */
  mode: 'inner' | 'left';
  /** The output field that holds the table row. */
  into: string;
  /** Every task holds the whole table, so it applies every table partition. */
  broadcast: boolean;
}

const identity: StateCodec<Json> = { encode: (value) => value, decode: (json) => json };

/** State keys: a table row under `row/<key>`, and the next table offset to apply per table partition under `position/<partition>`. */
const rowKey = (key: string): string => `row/${key}`;

/**
 * Keys meet as text, so a number in the stream (`42`) finds the row whose message key is the bytes `42`.
 * Only plain values are keys: anything else is the record's problem, said in its dead letter.
 */
function keyText(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  throw new Error(`${what} is ${showValue(value)}, not a string, number or boolean`);
}

export class TableJoinOperator implements Operator {
  readonly id: string;
  readonly table: string;
  readonly broadcast: boolean;
  readonly #options: TableJoinOptions;
  readonly #context: OperatorContext;
  readonly #state: KeyedState<Json>;
  readonly #positions: ReadPositions;

  constructor(options: TableJoinOptions, context: OperatorContext) {
    this.id = context.operatorId;
    this.table = options.table;
    this.broadcast = options.broadcast;
    this.#options = options;
    this.#context = context;
    this.#state = context.keyedState(identity);
    this.#positions = new ReadPositions(this.#state);
  }

  processRecord(record: StreamRecord): void {
    let key: string | null;
    try {
      key = keyText(this.#options.leftKey(record.value), 'the join key');
    } catch (error) {
      this.#context.deadLetter(`${this.id}: ${messageOf(error)}`, record);
      return;
    }
    const row = key === null ? undefined : this.#state.get(rowKey(key));
    if (row === undefined && this.#options.mode === 'inner') return;
    this.#context.output.record({ ...record, value: { ...record.value, [this.#options.into]: row ?? null } });
  }

  processWatermark(watermark: number): void {
    // The table side carries no event time: the stream's watermark passes through unchanged.
    this.#context.output.watermark(watermark);
  }

  /** A GDPR erasure (erasure/): the table's row whose key is the subject; the table's producer owns the topic's copy. */
  eraseKey(subject: KeyValue): number {
    let deleted = 0;
    for (const form of new Set(subjectForms(subject).map(String))) {
      if (this.#state.get(rowKey(form)) === undefined) continue;
      this.#state.delete(rowKey(form));
      deleted++;
    }
    return deleted;
  }

  restore(): void {
    // The table is read from state on every lookup: nothing is held in memory.
  }

  /** The next offset of a table partition this task has not applied yet: where its reading resumes. */
  position(partition: number): number {
    return this.#positions.position(partition);
  }

  /** The table's input is read up to `next` in `partition` (past lines that were no message, say): later reads start there. */
  reached(partition: number, next: number): void {
    this.#positions.reached(partition, next);
  }

  /**
   * Applies one table message, unless this task applied it already (a restored task's state holds its
   * position). Returns why a message cannot be applied (no key), for its dead letter; it is skipped.
   */
  apply(change: TableChange): string | undefined {
    if (!this.#positions.claim(change.partition, change.offset)) return undefined;
    let key: string | null;
    try {
      const { rightKey } = this.#options;
      key = rightKey === undefined || change.value === null ? change.key : keyText(rightKey(change.value), 'the table key (join.rightKey)');
    } catch (error) {
      return `${this.id}: table ${this.table}: ${messageOf(error)}`;
    }
    if (key === null)
      return `${this.id}: table ${this.table} partition ${change.partition} offset ${change.offset} has no key; a table row needs a message key (or join.rightKey)`;
    if (change.value === null) this.#state.delete(rowKey(key));
    else this.#state.put(rowKey(key), change.value as Json);
    return undefined;
  }
}

export const tableJoinOperator =
  (options: TableJoinOptions) =>
  (context: OperatorContext): Operator =>
    new TableJoinOperator(options, context);
