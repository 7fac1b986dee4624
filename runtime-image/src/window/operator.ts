// The keyed event-time window operator with Flink's semantics: fire at end − 1, allowed lateness with re-fire, late output, session merging, cleanup.
import type { Accumulator } from '../aggregate/accumulator.js';
import type { Aggregate } from '../aggregate/aggregates.js';
import type { KeySelector, KeyValue } from '../dataflow/keys.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';
import { messageOf } from '../error-message.js';
import type { Json, KeyedState, StateCodec } from '../state/keyed.js';
import { formatIsoTime } from '../time/iso8601.js';
import { WATERMARK_START } from '../time/watermark.js';
import { type TimeWindow, type WindowAssigner, maxTimestamp, mergeWindows, sameWindow } from './assigners.js';
import { TimerQueue } from './timers.js';
import { keysOfSubject } from '../erasure/subject.js';

/** A window's key (its keyBy values as JSON) longer than this, in UTF-8 bytes, is refused: the record is dead-lettered. */
export const MAX_STATE_KEY_BYTES = 16 * 1024;

export interface WindowOperatorOptions {
  assigner: WindowAssigner;
  /** Milliseconds after a window fired during which late records still update (and re-fire) it. */
  allowedLateness: number;
  key: KeySelector;
  aggregates: readonly Aggregate[];
}

/** What the operator keeps per (key, window) in keyed state. */
export interface WindowEntry {
  key: KeyValue[];
  window: TimeWindow;
  accumulators: Accumulator<unknown>[];
}

/** The fields every result carries besides the key fields and the aggregates. */
export const WINDOW_FIELDS = ['window_start', 'window_end'] as const;

/**
 * A window entry as JSON, aggregates by name, so a job upgraded through a savepoint keeps each aggregate's state by its
 * name: an aggregate the new spec adds starts empty in the windows open at the upgrade (it covers the records after
 * it), one the new spec drops is forgotten, and the others go on where they were.
 */
export function windowStateCodec(aggregates: readonly Aggregate[]): StateCodec<WindowEntry> {
  return {
    encode: ({ key, window, accumulators }) => ({
      key,
      start: window.start,
      end: window.end,
      aggregates: Object.fromEntries(aggregates.map((aggregate, i) => [aggregate.name, accumulators[i]!.toJSON()])),
    }),
    decode: (json) => {
      if (!isObject(json)) throw unreadable(json);
      const { key, start, end, aggregates: stored } = json;
      if (!Array.isArray(key) || !key.every(isKeyValue) || typeof start !== 'number' || typeof end !== 'number' || !isObject(stored)) {
        throw unreadable(json);
      }
      return {
        key,
        window: { start, end },
        accumulators: aggregates.map((aggregate) => {
          const state = stored[aggregate.name];
          return state === undefined ? aggregate.create() : aggregate.restore(state);
        }),
      };
    },
  };
}

function isObject(json: Json | undefined): json is { [field: string]: Json } {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function isKeyValue(json: Json): json is KeyValue {
  return typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean';
}

function unreadable(json: Json): Error {
  return new TypeError(`window state ${JSON.stringify(json).slice(0, 200)} is not one this version wrote; restore a snapshot of the same job`);
}

export class WindowOperator implements Operator {
  readonly id: string;
  readonly #assigner: WindowAssigner;
  readonly #allowedLateness: number;
  readonly #key: KeySelector;
  readonly #aggregates: readonly Aggregate[];
  readonly #context: OperatorContext;
  readonly #state: KeyedState<WindowEntry>;
  readonly #timers = new TimerQueue();
  /** For session windows: each key's current sessions, by start. Rebuilt from state on restore, like the timers. */
  readonly #sessions = new Map<string, TimeWindow[]>();
  #watermark = WATERMARK_START;

  constructor(options: WindowOperatorOptions, context: OperatorContext) {
    if (!Number.isSafeInteger(options.allowedLateness) || options.allowedLateness < 0) {
      throw new RangeError(`allowedLateness must be a whole, non-negative number of milliseconds, not ${options.allowedLateness}`);
    }
    this.id = context.operatorId;
    this.#assigner = options.assigner;
    this.#allowedLateness = options.allowedLateness;
    this.#key = options.key;
    this.#aggregates = options.aggregates;
    this.#context = context;
    this.#state = context.keyedState(windowStateCodec(options.aggregates));
  }

  processRecord(record: StreamRecord): void {
    let key: KeyValue[];
    let inputs: unknown[];
    try {
      key = this.#key.values(record.value);
      inputs = this.#aggregates.map((aggregate) => aggregate.read(record.value));
    } catch (error) {
      this.#context.deadLetter(`${this.id}: ${messageOf(error)}`, record);
      return;
    }
    const keyId = JSON.stringify(key);
    // A key is held in every state entry and changelog record of its windows: one huge key must not make state that cannot be written.
    if (keyId.length * 3 > MAX_STATE_KEY_BYTES && Buffer.byteLength(keyId) > MAX_STATE_KEY_BYTES) {
      this.#context.deadLetter(
        `${this.id}: the key takes ${Buffer.byteLength(keyId)} bytes, over the ${MAX_STATE_KEY_BYTES} bytes a window key may take`,
        record,
      );
      return;
    }
    const added = this.#assigner.merging ? this.#addToSession(keyId, key, inputs, record.timestamp) : this.#addToWindows(keyId, key, inputs, record.timestamp);
    if (!added) this.#context.late(record);
  }

  processWatermark(watermark: number): void {
    if (watermark <= this.#watermark) return;
    this.#watermark = watermark;
    for (let timer = this.#timers.pollDue(watermark); timer !== undefined; timer = this.#timers.pollDue(watermark)) {
      const entry = this.#state.get(timer.stateKey);
      if (entry === undefined) continue;
      if (timer.kind === 'fire') this.#emit(entry);
      else this.#drop(timer.stateKey, entry);
    }
    this.#context.output.watermark(watermark);
  }

  restore(watermark: number): void {
    this.#watermark = watermark;
    this.#timers.clear();
    this.#sessions.clear();
    for (const [stateKey, entry] of this.#state.entries()) {
      this.#registerTimers(stateKey, entry.window);
      if (this.#assigner.merging) this.#indexSession(JSON.stringify(entry.key), entry.window);
    }
  }

  /** An erasure: every window of the subject's keys is deleted; their timers find no state and pass (as after a merge). */
  eraseKey(subject: KeyValue): number {
    const keys = keysOfSubject(this.#state, subject);
    for (const stateKey of keys) {
      const entry = this.#state.get(stateKey);
      this.#state.delete(stateKey);
      if (entry !== undefined) this.#sessions.delete(JSON.stringify(entry.key));
    }
    return keys.length;
  }

  /** Late for a window: its state is (or would be) already dropped, end − 1 + allowedLateness ≤ watermark. */
  #isLate(window: TimeWindow): boolean {
    return maxTimestamp(window) + this.#allowedLateness <= this.#watermark;
  }

  #addToWindows(keyId: string, key: KeyValue[], inputs: unknown[], timestamp: number): boolean {
    let added = false;
    for (const window of this.#assigner.assign(timestamp)) {
      if (this.#isLate(window)) continue;
      added = true;
      const stateKey = stateKeyOf(keyId, window);
      this.#addAndMaybeFire(stateKey, this.#state.get(stateKey) ?? this.#open(stateKey, key, window), inputs, timestamp);
    }
    return added;
  }

  /** Flink's MergingWindowSet.addWindow: the record's session merges with every session of its key it meets. */
  #addToSession(keyId: string, key: KeyValue[], inputs: unknown[], timestamp: number): boolean {
    const [window] = this.#assigner.assign(timestamp) as [TimeWindow];
    const sessions = this.#sessions.get(keyId) ?? [];
    const merge = mergeWindows([...sessions, window]).find((group) => group.merged.includes(window));
    const target = merge?.window ?? window;
    if (this.#isLate(target)) return false;
    const absorbed = merge?.merged.filter((session) => session !== window) ?? [];
    const stateKey = stateKeyOf(keyId, target);
    let entry: WindowEntry;
    if (absorbed.length === 0) entry = this.#open(stateKey, key, target);
    else if (absorbed.length === 1 && sameWindow(absorbed[0]!, target)) entry = this.#state.get(stateKey)!;
    else entry = this.#mergeSessions(keyId, key, absorbed, target);
    this.#addAndMaybeFire(stateKey, entry, inputs, timestamp);
    return true;
  }

  /**
   * Sessions that now meet become one entry for the covering window, their accumulators merged in
   * start order; their timers are left to find no state. As in Flink, the merged window fires at its
   * own end − 1, or at once (when the record is added) if the watermark is already past that.
   */
  #mergeSessions(keyId: string, key: KeyValue[], absorbed: readonly TimeWindow[], target: TimeWindow): WindowEntry {
    const [into, ...others] = absorbed.map((window) => this.#state.get(stateKeyOf(keyId, window))!);
    for (const other of others) into!.accumulators.forEach((accumulator, i) => accumulator.merge(other.accumulators[i]!));
    for (const window of absorbed) this.#state.delete(stateKeyOf(keyId, window));
    this.#sessions.set(
      keyId,
      (this.#sessions.get(keyId) ?? []).filter((session) => !absorbed.includes(session)),
    );
    const stateKey = stateKeyOf(keyId, target);
    const entry: WindowEntry = { key, window: target, accumulators: into!.accumulators };
    this.#state.put(stateKey, entry);
    this.#registerTimers(stateKey, target);
    this.#indexSession(keyId, target);
    return entry;
  }

  #open(stateKey: string, key: KeyValue[], window: TimeWindow): WindowEntry {
    const entry: WindowEntry = { key, window, accumulators: this.#aggregates.map((aggregate) => aggregate.create()) };
    this.#registerTimers(stateKey, window);
    if (this.#assigner.merging) this.#indexSession(JSON.stringify(key), window);
    return entry;
  }

  /** Adds the inputs; a window the watermark has passed (late but allowed) fires again at once, like Flink's EventTimeTrigger. */
  #addAndMaybeFire(stateKey: string, entry: WindowEntry, inputs: unknown[], timestamp: number): void {
    inputs.forEach((input, i) => {
      if (input !== undefined) entry.accumulators[i]!.add(input, timestamp);
    });
    this.#state.put(stateKey, entry);
    if (maxTimestamp(entry.window) <= this.#watermark) this.#emit(entry);
  }

  #registerTimers(stateKey: string, window: TimeWindow): void {
    const fireAt = maxTimestamp(window);
    if (fireAt > this.#watermark) this.#timers.add({ time: fireAt, kind: 'fire', stateKey });
    this.#timers.add({ time: fireAt + this.#allowedLateness, kind: 'cleanup', stateKey });
  }

  #indexSession(keyId: string, window: TimeWindow): void {
    const sessions = this.#sessions.get(keyId) ?? [];
    sessions.push(window);
    sessions.sort((a, b) => a.start - b.start);
    this.#sessions.set(keyId, sessions);
  }

  #drop(stateKey: string, entry: WindowEntry): void {
    this.#state.delete(stateKey);
    if (!this.#assigner.merging) return;
    const keyId = JSON.stringify(entry.key);
    const remaining = (this.#sessions.get(keyId) ?? []).filter((session) => !sameWindow(session, entry.window));
    if (remaining.length === 0) this.#sessions.delete(keyId);
    else this.#sessions.set(keyId, remaining);
  }

  #emit({ key, window, accumulators }: WindowEntry): void {
    const value: Record<string, unknown> = {};
    this.#key.fields.forEach((field, i) => {
      value[field] = key[i];
    });
    value.window_start = formatIsoTime(window.start);
    value.window_end = formatIsoTime(window.end);
    this.#aggregates.forEach((aggregate, i) => {
      value[aggregate.name] = accumulators[i]!.result();
    });
    this.#context.output.record({ value, timestamp: maxTimestamp(window) });
  }
}

/** The state key of a key's window: the key's JSON, then the window, so one key's windows sit together. */
function stateKeyOf(keyId: string, window: TimeWindow): string {
  return `${keyId}|${window.start}|${window.end}`;
}
