// The keyed CEP pattern operator: records buffered per key until the watermark passes them, then matched in event-time order; one result per match.
import type { KeySelector, KeyValue } from '../dataflow/keys.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';
import { messageOf, showValue } from '../error-message.js';
import type { Json, KeyedState, StateCodec } from '../state/keyed.js';
import { formatIsoTime } from '../time/iso8601.js';
import { WATERMARK_START } from '../time/watermark.js';
import { MAX_STATE_KEY_BYTES } from '../window/operator.js';
import { TimerQueue } from '../window/timers.js';
import { type Link, type PatternRecord, type PatternStage, type Run, type Taken, advance, runStart } from './nfa.js';
import { keysOfSubject } from '../erasure/subject.js';

type Row = Record<string, unknown>;

/** A stage with its condition: a test over one record that returns true or false (or throws for a record it cannot read). */
export interface PatternStageSpec extends PatternStage {
  readonly condition: (value: Row) => unknown;
}

export interface PatternOperatorOptions {
  key: KeySelector;
  stages: readonly PatternStageSpec[];
  /** Milliseconds: a match's last record is less than this after its first. */
  within: number;
  /** Builds a result from the match, each stage's name → its records; by default the key, match_start, match_end and `<stage>_count`. */
  select?: (match: Record<string, Row[]>) => Row;
}

/** A record waiting for the watermark: its event time, the stages whose condition it meets, and its value when it meets one. */
export interface PendingRecord {
  timestamp: number;
  matches: boolean[];
  value: Row;
}

/** What the operator keeps per key in keyed state. */
export interface PatternEntry {
  key: KeyValue[];
  /** How many of the key's records were matched so far: the index the next one gets (strict contiguity counts on it). */
  processed: number;
  /** Records not yet passed by the watermark, in arrival order. */
  pending: PendingRecord[];
  runs: Run[];
}

/** The fields of a result without select, besides the key fields and `<stage>_count`. */
export const MATCH_FIELDS = ['match_start', 'match_end'] as const;

function isObject(json: Json | undefined): json is { [field: string]: Json } {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function unreadable(json: Json): Error {
  return new TypeError(`pattern state ${JSON.stringify(json).slice(0, 200)} is not one this version wrote; restore a snapshot of the same job`);
}

const stagesOf = (matches: readonly boolean[]): number[] => matches.flatMap((matched, stage) => (matched ? [stage] : []));

/**
 * A key's pattern state as JSON. The records partial matches took are stored once each (index, time, stages met, value),
 * and the runs' links to them once each, shared between runs as in memory (Flink's SharedBuffer does the same); pending
 * records keep their value only when they meet some stage's condition, as the others can never be part of a match.
 */
export function patternStateCodec(stageCount: number): StateCodec<PatternEntry> {
  const matchesOf = (stages: Json | undefined): boolean[] => {
    if (!Array.isArray(stages)) throw unreadable(stages ?? null);
    return Array.from({ length: stageCount }, (_, stage) => stages.includes(stage));
  };
  return {
    encode: ({ key, processed, pending, runs }) => {
      const ids = new Map<Link, number>();
      const links: Json[] = [];
      const records = new Map<number, PatternRecord>();
      // Iterative, oldest link first, so a long run cannot overflow the stack and every link's previous has a smaller id.
      const idOf = (link: Link): number => {
        const chain: Link[] = [];
        for (let at: Link | undefined = link; at !== undefined && !ids.has(at); at = at.previous) chain.push(at);
        for (const node of chain.reverse()) {
          ids.set(node, links.length);
          links.push([node.stage, node.record.index, node.previous === undefined ? -1 : ids.get(node.previous)!]);
          records.set(node.record.index, node.record);
        }
        return ids.get(link)!;
      };
      const encodedRuns = runs.map(({ stage, count, last }) => [stage, count, idOf(last)]);
      return {
        key,
        processed,
        pending: pending.map(({ timestamp, matches, value }) => [timestamp, stagesOf(matches), value as Json]),
        records: [...records.values()].map(({ index, timestamp, matches, value }) => [index, timestamp, stagesOf(matches), value as Json]),
        links,
        runs: encodedRuns,
      };
    },
    decode: (json) => {
      if (!isObject(json) || !Array.isArray(json.key) || typeof json.processed !== 'number' || !Array.isArray(json.pending)) throw unreadable(json);
      if (!Array.isArray(json.records) || !Array.isArray(json.links) || !Array.isArray(json.runs)) throw unreadable(json);
      const records = new Map<number, PatternRecord>();
      for (const item of json.records) {
        if (!Array.isArray(item) || typeof item[0] !== 'number' || typeof item[1] !== 'number' || !isObject(item[3])) throw unreadable(item);
        records.set(item[0], { index: item[0], timestamp: item[1], matches: matchesOf(item[2]), value: item[3] });
      }
      const links: { link: Link; start: PatternRecord; size: number }[] = [];
      for (const item of json.links) {
        const record = Array.isArray(item) && typeof item[1] === 'number' ? records.get(item[1]) : undefined;
        const previous = Array.isArray(item) && typeof item[2] === 'number' ? links[item[2]] : undefined;
        if (!Array.isArray(item) || typeof item[0] !== 'number' || record === undefined || (item[2] !== -1 && previous === undefined)) throw unreadable(item);
        const link: Link = { stage: item[0], record, previous: previous?.link };
        links.push({ link, start: previous?.start ?? record, size: (previous?.size ?? 0) + 1 });
      }
      return {
        key: json.key as KeyValue[],
        processed: json.processed,
        pending: json.pending.map((item) => {
          if (!Array.isArray(item) || typeof item[0] !== 'number' || !isObject(item[2])) throw unreadable(item);
          return { timestamp: item[0], matches: matchesOf(item[1]), value: item[2] };
        }),
        runs: json.runs.map((item): Run => {
          const last = Array.isArray(item) && typeof item[2] === 'number' ? links[item[2]] : undefined;
          if (!Array.isArray(item) || typeof item[0] !== 'number' || typeof item[1] !== 'number' || last === undefined) throw unreadable(item);
          return { stage: item[0], count: item[1], start: last.start, last: last.link, size: last.size };
        }),
      };
    },
  };
}

export class PatternOperator implements Operator {
  readonly id: string;
  readonly #key: KeySelector;
  readonly #stages: readonly PatternStageSpec[];
  readonly #within: number;
  readonly #select: ((match: Record<string, Row[]>) => Row) | undefined;
  readonly #context: OperatorContext;
  readonly #state: KeyedState<PatternEntry>;
  readonly #timers = new TimerQueue();
  /** Each key's earliest due time (a pending record's time, or when its oldest run expires); older queued timers are stale. */
  readonly #dueAt = new Map<string, number>();
  #watermark = WATERMARK_START;

  constructor(options: PatternOperatorOptions, context: OperatorContext) {
    if (!Number.isSafeInteger(options.within) || options.within <= 0)
      throw new RangeError(`within must be a whole, positive number of milliseconds, not ${options.within}`);
    if (options.stages.length === 0) throw new RangeError('a pattern needs at least one stage');
    this.id = context.operatorId;
    this.#key = options.key;
    this.#stages = options.stages;
    this.#within = options.within;
    this.#select = options.select;
    this.#context = context;
    this.#state = context.keyedState(patternStateCodec(options.stages.length));
  }

  processRecord(record: StreamRecord): void {
    let key: KeyValue[];
    let matches: boolean[];
    try {
      key = this.#key.values(record.value);
      matches = this.#stages.map((stage) => this.#meets(stage, record.value));
    } catch (error) {
      this.#context.deadLetter(`${this.id}: ${messageOf(error)}`, record);
      return;
    }
    const keyId = JSON.stringify(key);
    if (keyId.length * 3 > MAX_STATE_KEY_BYTES && Buffer.byteLength(keyId) > MAX_STATE_KEY_BYTES) {
      this.#context.deadLetter(
        `${this.id}: the key takes ${Buffer.byteLength(keyId)} bytes, over the ${MAX_STATE_KEY_BYTES} bytes a pattern key may take`,
        record,
      );
      return;
    }
    // As in Flink CEP, a record the watermark has passed can no longer be put in order: it is late.
    if (record.timestamp <= this.#watermark) {
      this.#context.late(record);
      return;
    }
    const entry = this.#state.get(keyId) ?? { key, processed: 0, pending: [], runs: [] };
    entry.pending.push({ timestamp: record.timestamp, matches, value: matches.includes(true) ? record.value : {} });
    this.#state.put(keyId, entry);
    this.#schedule(keyId, record.timestamp);
  }

  processWatermark(watermark: number): void {
    if (watermark <= this.#watermark) return;
    this.#watermark = watermark;
    for (let timer = this.#timers.pollDue(watermark); timer !== undefined; timer = this.#timers.pollDue(watermark)) {
      const keyId = timer.stateKey.slice(0, timer.stateKey.lastIndexOf('@'));
      if (this.#dueAt.get(keyId) !== timer.time) continue;
      this.#dueAt.delete(keyId);
      const entry = this.#state.get(keyId);
      if (entry !== undefined) this.#catchUp(keyId, entry);
    }
    this.#context.output.watermark(watermark);
  }

  restore(watermark: number): void {
    this.#watermark = watermark;
    this.#timers.clear();
    this.#dueAt.clear();
    for (const [keyId, entry] of this.#state.entries()) this.#schedule(keyId, this.#nextDue(entry)!);
  }

  /** An erasure: the subject's partial matches and pending records are deleted; its timer finds no due time and passes. */
  eraseKey(subject: KeyValue): number {
    const keys = keysOfSubject(this.#state, subject);
    for (const keyId of keys) {
      this.#state.delete(keyId);
      this.#dueAt.delete(keyId);
    }
    return keys.length;
  }

  #meets(stage: PatternStageSpec, value: Row): boolean {
    const met = stage.condition(value);
    if (typeof met !== 'boolean') throw new TypeError(`the condition of stage ${stage.name} returned ${showValue(met)}, not true or false`);
    return met;
  }

  /** Matches the key's records the watermark has passed, in event-time order (ties in arrival order), then drops runs that expired. */
  #catchUp(keyId: string, entry: PatternEntry): void {
    const due = entry.pending.filter((record) => record.timestamp <= this.#watermark).sort((a, b) => a.timestamp - b.timestamp);
    entry.pending = entry.pending.filter((record) => record.timestamp > this.#watermark);
    for (const { timestamp, matches, value } of due) {
      const record: PatternRecord = { timestamp, index: entry.processed, matches, value };
      entry.processed += 1;
      const { runs, match } = advance(this.#stages, this.#within, entry.runs, record);
      entry.runs = runs;
      if (match !== undefined) this.#emit(entry.key, match);
    }
    // A run can take no record later than its start + within − 1; every record still to come is after the watermark.
    entry.runs = entry.runs.filter((run) => runStart(run) + this.#within - 1 > this.#watermark);
    const next = this.#nextDue(entry);
    if (next === undefined) {
      this.#state.delete(keyId);
      return;
    }
    this.#state.put(keyId, entry);
    this.#schedule(keyId, next);
  }

  #nextDue(entry: PatternEntry): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const record of entry.pending) next = Math.min(next, record.timestamp);
    for (const run of entry.runs) next = Math.min(next, runStart(run) + this.#within - 1);
    return next === Number.POSITIVE_INFINITY ? undefined : next;
  }

  #schedule(keyId: string, time: number): void {
    const current = this.#dueAt.get(keyId);
    if (current !== undefined && current <= time) return;
    this.#dueAt.set(keyId, time);
    this.#timers.add({ time, kind: 'fire', stateKey: `${keyId}@${time}` });
  }

  #emit(key: KeyValue[], match: readonly Taken[]): void {
    const byStage: Record<string, Row[]> = Object.fromEntries(this.#stages.map((stage) => [stage.name, [] as Row[]]));
    for (const { stage, record } of match) byStage[this.#stages[stage]!.name]!.push(record.value);
    const first = match[0]!.record;
    const last = match.at(-1)!.record;
    let value: Row;
    if (this.#select === undefined) {
      value = {};
      this.#key.fields.forEach((field, i) => {
        value[field] = key[i];
      });
      value.match_start = formatIsoTime(first.timestamp);
      value.match_end = formatIsoTime(last.timestamp);
      for (const stage of this.#stages) value[`${stage.name}_count`] = byStage[stage.name]!.length;
    } else {
      try {
        value = this.#select(byStage);
      } catch (error) {
        this.#context.deadLetter(`${this.id}: select failed on the match ending at ${formatIsoTime(last.timestamp)}: ${messageOf(error)}`, {
          value: last.value,
          timestamp: last.timestamp,
        });
        return;
      }
    }
    this.#context.output.record({ value, timestamp: last.timestamp });
  }
}
