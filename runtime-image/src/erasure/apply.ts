// Applies GDPR erasures to a pod's tasks: each task keeps how far into the erasure topic it has applied, in its committed offset's metadata.
import type { Sink } from '../connectors/sink.js';
import type { KeyValue } from '../dataflow/keys.js';
import { partitionOf } from '../connectors/partitioner.js';
import { showValue } from '../error-message.js';
import type { JobErasure } from './spec.js';
import { subjectHash } from './subject.js';

/** What erases a subject in one task: the task's eraseKey (Task.eraseKey). */
export interface ErasableTask {
  eraseKey?(subject: KeyValue): number;
}

/** One erasure applied, for the metric and the log line: the subject's hash, never its value. */
export interface ErasureReport {
  subjectHash: string;
  /** The source partitions whose state it was applied to. */
  partitions: number[];
  /** Keyed-state entries deleted (each becomes a changelog tombstone at the next commit). */
  stateEntries: number;
  /** The sinks that deleted what they derived for it; the others cannot name it (docs/security.md). */
  sinks: number;
}

/** An erasure record, as the erasure topic carries it. */
export interface ErasureMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** The metadata field a task's erasure positions are committed under, beside its watermark. */
export const ERASURE_METADATA = 'erasure';

/**
 * The subject of an erasure record: its Kafka key, or the keyField of its JSON object. Throws with what is wrong
 * (the task set dead-letters the record).
 */
export function subjectOf(erasure: JobErasure, message: ErasureMessage): KeyValue {
  if (erasure.keyField === undefined) {
    if (message.key === null || message.key.length === 0)
      throw new Error(`erasure topic ${erasure.topic}: the record has no key; its key is the subject to erase (or set spec.erasure.keyField)`);
    return message.key.toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(message.value?.toString('utf8') ?? 'null');
  } catch {
    throw new Error(`erasure topic ${erasure.topic}: the record is not JSON; write a JSON object whose ${erasure.keyField} names the subject`);
  }
  const subject = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[erasure.keyField] : undefined;
  if (typeof subject === 'string' || typeof subject === 'boolean' || (typeof subject === 'number' && Number.isFinite(subject))) return subject;
  throw new Error(
    `erasure topic ${erasure.topic}: field ${erasure.keyField} is ${subject === undefined ? 'missing' : `${showValue(subject)}, not a string or number`}; it must name the subject`,
  );
}

export interface ErasureTasksOptions {
  erasure: JobErasure;
  sinks: readonly Sink[];
  /**
   * The source's partition count when its producers key it by the erasure's subject (kafka.keyedBy is the keyBy
   * field): an erasure then goes to the one task owning the subject's partition. Absent: to every task.
   */
  routeBy?: number;
}

/**
 * Per owned source partition, the next erasure offset to apply per erasure partition. An erasure at (p, o) is
 * applied to a task whose position for p is ≤ o, and moves it to o + 1; the positions go into the task's committed
 * offset metadata in the same transaction as the tombstones, so a restart re-applies exactly the erasures not yet
 * committed (deleting again is harmless).
 */
export class ErasureTasks {
  readonly #options: ErasureTasksOptions;
  readonly #positions = new Map<number, Map<number, number>>();

  constructor(options: ErasureTasksOptions) {
    this.#options = options;
  }

  /** A task's positions as its last commit recorded them (none: from the start of the topic, every erasure again). */
  restore(partition: number, metadata: Record<string, unknown>): void {
    const recorded = metadata[ERASURE_METADATA];
    const positions = new Map<number, number>();
    if (typeof recorded === 'object' && recorded !== null) {
      for (const [p, next] of Object.entries(recorded)) if (typeof next === 'number') positions.set(Number(p), next);
    }
    this.#positions.set(partition, positions);
  }

  /** Where reading the erasure partition starts: the lowest position of any task. */
  from(erasurePartition: number): number {
    let from = Number.POSITIVE_INFINITY;
    for (const positions of this.#positions.values()) from = Math.min(from, positions.get(erasurePartition) ?? 0);
    return Number.isFinite(from) ? from : 0;
  }

  /** The metadata fields that record the task's positions. */
  metadata(partition: number): Record<string, unknown> {
    const positions = this.#positions.get(partition);
    return positions === undefined || positions.size === 0 ? {} : { [ERASURE_METADATA]: Object.fromEntries(positions) };
  }

  /** Moves the tasks past a record that names no subject (dead-lettered): a restart does not read it again. Returns the tasks moved. */
  pass(message: ErasureMessage, partitions: Iterable<number>): number[] {
    const moved: number[] = [];
    for (const partition of partitions) {
      const positions = this.#positions.get(partition) ?? new Map<number, number>();
      this.#positions.set(partition, positions);
      if ((positions.get(message.partition) ?? 0) > message.offset) continue;
      positions.set(message.partition, message.offset + 1);
      moved.push(partition);
    }
    return moved;
  }

  /**
   * Applies one erasure to the tasks that have not applied it: their keyed state, then the sinks (in order with the
   * results buffered around it). Returns the partitions whose positions moved (to commit), and the report when a
   * task applied it.
   */
  apply(message: ErasureMessage, subject: KeyValue, tasks: ReadonlyMap<number, ErasableTask>): { moved: number[]; report: ErasureReport | undefined } {
    const { erasure, sinks, routeBy } = this.#options;
    const owner = routeBy === undefined ? undefined : partitionOf(String(subject), routeBy);
    const moved: number[] = [];
    const applied: number[] = [];
    let stateEntries = 0;
    for (const [partition, task] of tasks) {
      const positions = this.#positions.get(partition) ?? new Map<number, number>();
      this.#positions.set(partition, positions);
      if ((positions.get(message.partition) ?? 0) > message.offset) continue;
      positions.set(message.partition, message.offset + 1);
      moved.push(partition);
      if (owner !== undefined && owner !== partition) continue;
      stateEntries += task.eraseKey?.(subject) ?? 0;
      applied.push(partition);
    }
    if (applied.length === 0) return { moved, report: undefined };
    let erasedSinks = 0;
    for (const sink of sinks) if (sink.erase?.(erasure.resultField, subject) === true) erasedSinks++;
    return { moved, report: { subjectHash: subjectHash(subject), partitions: applied, stateEntries, sinks: erasedSinks } };
  }
}
