// The interval join of two streams, with Flink's IntervalJoinOperator semantics: b joins a when a.key = b.key and a.ts + lower ≤ b.ts ≤ a.ts + upper.
import type { KeyValue } from '../dataflow/keys.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';
import { subjectForms } from '../erasure/subject.js';
import { messageOf, showValue } from '../error-message.js';
import type { Json, KeyedState, StateCodec } from '../state/keyed.js';
import { ReadPositions } from './read-positions.js';
import { BoundedOutOfOrdernessWatermark, WATERMARK_START } from '../time/watermark.js';
import type { TableChange } from './table-join.js';

type Row = Record<string, unknown>;

export interface IntervalJoinOptions {
  /** The other stream's source name (join.with). */
  other: string;
  leftKey: (record: Row) => unknown;
  rightKey: (record: Row) => unknown;
  /** Milliseconds, relative to the left record's event time; lower ≤ upper, either may be negative. */
  lower: number;
  upper: number;
  into: string;
  /** The other stream's event time (its source's eventTime); throws the dead-letter reason. */
  rightTime: (record: Row) => number;
  /** The other stream's maxOutOfOrderness: its watermark trails its largest event time by this + 1 ms. */
  rightMaxOutOfOrderness: number;
}

const identity: StateCodec<Json> = { encode: (value) => value, decode: (json) => json };

/** One buffered record: its event time and value, kept in event-time order per key and side. */
type Buffered = [timestamp: number, value: Json];
type Side = 'left' | 'right';

const bufferKey = (side: Side, key: string): string => `${side}/${key}`;
const RIGHT_WATERMARK = 'watermark/right';

function keyText(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  throw new Error(`${what} is ${showValue(value)}, not a string, number or boolean`);
}

/** JSON has no infinities: the watermark's ends are stored as strings. */
const storeWatermark = (watermark: number): Json => (Number.isFinite(watermark) ? watermark : String(watermark));
const readWatermark = (stored: Json | undefined): number =>
  typeof stored === 'number' ? stored : typeof stored === 'string' ? Number(stored) : WATERMARK_START;

export class IntervalJoinOperator implements Operator {
  readonly id: string;
  /** The source whose records `apply` takes: the other stream. */
  readonly table: string;
  readonly broadcast = false;
  readonly #options: IntervalJoinOptions;
  readonly #context: OperatorContext;
  readonly #state: KeyedState<Json>;
  readonly #positions: ReadPositions;
  readonly #right: BoundedOutOfOrdernessWatermark;
  #left = WATERMARK_START;
  /** The watermark passed downstream: the least of the two inputs'. */
  #emitted = WATERMARK_START;
  /** Cleanup timers, ascending by time: [time, side, key, buffered timestamp]. In memory, rebuilt from state on restore. */
  #timers: [number, Side, string, number][] = [];

  constructor(options: IntervalJoinOptions, context: OperatorContext) {
    this.id = context.operatorId;
    this.table = options.other;
    this.#options = options;
    this.#context = context;
    this.#state = context.keyedState(identity);
    this.#positions = new ReadPositions(this.#state);
    this.#right = new BoundedOutOfOrdernessWatermark(options.rightMaxOutOfOrderness);
  }

  processRecord(record: StreamRecord): void {
    let key: string | null;
    try {
      key = keyText(this.#options.leftKey(record.value), 'the join key (join.leftKey)');
    } catch (error) {
      this.#context.deadLetter(`${this.id}: ${messageOf(error)}`, record);
      return;
    }
    if (this.#isLate(record.timestamp)) {
      this.#context.late(record);
      return;
    }
    if (key === null) return;
    this.#buffer('left', key, record.timestamp, record.value as Json);
    const { lower, upper } = this.#options;
    for (const [timestamp, value] of this.#buffered('right', key)) {
      if (timestamp >= record.timestamp + lower && timestamp <= record.timestamp + upper) this.#emit(record, value, timestamp);
    }
    this.#addTimer(upper > 0 ? record.timestamp + upper : record.timestamp, 'left', key, record.timestamp);
  }

  processWatermark(watermark: number): void {
    this.#left = watermark;
    this.#advance();
  }

  /** A GDPR erasure (erasure/): both sides' buffered records whose join key is the subject; their timers find nothing left. */
  eraseKey(subject: KeyValue): number {
    let deleted = 0;
    for (const form of new Set(subjectForms(subject).map(String))) {
      for (const side of ['left', 'right'] as const) {
        if (this.#state.get(bufferKey(side, form)) === undefined) continue;
        this.#state.delete(bufferKey(side, form));
        deleted++;
      }
    }
    return deleted;
  }

  restore(watermark: number): void {
    this.#left = watermark;
    this.#right.restore(readWatermark(this.#state.get(RIGHT_WATERMARK)));
    this.#emitted = Math.min(this.#left, this.#right.current);
    this.#timers = [];
    const { lower, upper } = this.#options;
    for (const [stateKey, entries] of this.#state.entries()) {
      const side = stateKey.startsWith('left/') ? 'left' : stateKey.startsWith('right/') ? 'right' : undefined;
      if (side === undefined) continue;
      const key = stateKey.slice(side.length + 1);
      for (const [timestamp] of entries as Buffered[]) {
        const time = side === 'left' ? (upper > 0 ? timestamp + upper : timestamp) : -lower > 0 ? timestamp - lower : timestamp;
        this.#addTimer(time, side, key, timestamp);
      }
    }
  }

  position(partition: number): number {
    return this.#positions.position(partition);
  }

  reached(partition: number, next: number): void {
    this.#positions.reached(partition, next);
  }

  /** One record of the other stream (the right side), unless this task took it already; returns its dead-letter reason when it has no event time or key. */
  apply(change: TableChange): string | undefined {
    if (!this.#positions.claim(change.partition, change.offset)) return undefined;
    if (change.value === null) return undefined;
    let timestamp: number;
    let key: string | null;
    try {
      timestamp = this.#options.rightTime(change.value);
      key = keyText(this.#options.rightKey(change.value), 'the join key (join.rightKey)');
    } catch (error) {
      return `${this.id}: ${this.table} partition ${change.partition} offset ${change.offset}: ${messageOf(error)}`;
    }
    if (this.#isLate(timestamp)) this.#context.late({ value: change.value, timestamp });
    else if (key !== null) {
      this.#buffer('right', key, timestamp, change.value as Json);
      const { lower, upper } = this.#options;
      for (const [leftTime, value] of this.#buffered('left', key)) {
        if (leftTime >= timestamp - upper && leftTime <= timestamp - lower)
          this.#emit({ value: value as Row, timestamp: leftTime }, change.value as Json, timestamp);
      }
      this.#addTimer(-lower > 0 ? timestamp - lower : timestamp, 'right', key, timestamp);
    }
    this.#advanceRight(this.#right.onRecord(timestamp));
    return undefined;
  }

  /** The other stream has ended: its watermark moves to +∞. */
  endOfOther(): void {
    this.#advanceRight(this.#right.endOfInput());
  }

  #advanceRight(watermark: number): void {
    this.#state.put(RIGHT_WATERMARK, storeWatermark(watermark));
    this.#advance();
  }

  /** Flink: a record is late when its event time is below the operator's (combined) watermark. */
  #isLate(timestamp: number): boolean {
    return this.#emitted !== WATERMARK_START && timestamp < this.#emitted;
  }

  #emit(left: StreamRecord, right: Json, rightTime: number): void {
    const value = { ...left.value, [this.#options.into]: right };
    this.#context.output.record({ ...(left.key === undefined ? {} : { key: left.key }), value, timestamp: Math.max(left.timestamp, rightTime) });
  }

  #buffered(side: Side, key: string): Buffered[] {
    return (this.#state.get(bufferKey(side, key)) as Buffered[] | undefined) ?? [];
  }

  /** Kept in event-time order, arrival order among equal times, as Flink's buffer iterates them. */
  #buffer(side: Side, key: string, timestamp: number, value: Json): void {
    const entries = this.#buffered(side, key);
    let at = entries.length;
    while (at > 0 && entries[at - 1]![0] > timestamp) at--;
    entries.splice(at, 0, [timestamp, value]);
    this.#state.put(bufferKey(side, key), entries);
  }

  #addTimer(time: number, side: Side, key: string, timestamp: number): void {
    let at = this.#timers.length;
    while (at > 0 && this.#timers[at - 1]![0] > time) at--;
    this.#timers.splice(at, 0, [time, side, key, timestamp]);
  }

  #advance(): void {
    const watermark = Math.min(this.#left, this.#right.current);
    if (watermark <= this.#emitted) return;
    this.#emitted = watermark;
    let due = 0;
    while (due < this.#timers.length && this.#timers[due]![0] <= watermark) due++;
    for (const [, side, key, timestamp] of this.#timers.splice(0, due)) {
      const kept = this.#buffered(side, key).filter(([buffered]) => buffered !== timestamp);
      if (kept.length === 0) this.#state.delete(bufferKey(side, key));
      else this.#state.put(bufferKey(side, key), kept);
    }
    this.#context.output.watermark(watermark);
  }
}

export const intervalJoinOperator =
  (options: IntervalJoinOptions) =>
  (context: OperatorContext): Operator =>
    new IntervalJoinOperator(options, context);
