// A task: one source partition's instance of the dataflow, run synchronously — records in, watermark after each, results, late records and dead letters out.
import type { KeyedStateFactory } from '../state/keyed.js';
import { BoundedOutOfOrdernessWatermark } from '../time/watermark.js';
import type { Dataflow } from './datastream.js';
import type { KeyValue } from './keys.js';
import type { DeadLetter, Operator, Output, StreamRecord } from './operator.js';

export interface TaskOutputs {
  /** The last operator's records: window results, or the records themselves for a job without windows. */
  result(record: StreamRecord): void;
  /** Records too late for every window they belong to. */
  late(record: StreamRecord): void;
  deadLetter(letter: DeadLetter): void;
}

export interface TaskOptions {
  /** The task's keyed state, one view per operator; restored from a snapshot before `restore` is called. */
  state: KeyedStateFactory;
  outputs: TaskOutputs;
}

export interface TaskCounts {
  recordsIn: number;
  resultsOut: number;
  late: number;
  deadLettered: number;
}

export class Task {
  readonly counts: TaskCounts = { recordsIn: 0, resultsOut: 0, late: 0, deadLettered: 0 };
  readonly #operators: readonly Operator[];
  readonly #head: Output;
  readonly #generator: BoundedOutOfOrdernessWatermark;
  readonly #outputs: TaskOutputs;

  constructor(dataflow: Dataflow, options: TaskOptions) {
    this.#generator = new BoundedOutOfOrdernessWatermark(dataflow.maxOutOfOrderness);
    this.#outputs = options.outputs;
    const counts = this.counts;
    const { outputs, state } = options;
    dataflow.nodes.forEach((node, i) => {
      const expected = i === 0 ? null : dataflow.nodes[i - 1]!.id;
      if (node.input !== expected) {
        throw new RangeError(`operator ${node.id} reads from ${node.input ?? 'the source'}, not ${expected ?? 'the source'}; a task runs a chain of operators`);
      }
    });
    let downstream: Output = {
      record: (record) => {
        counts.resultsOut += 1;
        outputs.result(record);
      },
      watermark: () => undefined,
    };
    const operators: Operator[] = [];
    // Built from the last operator back, so each one is created with its downstream.
    for (const node of [...dataflow.nodes].reverse()) {
      const operator = node.create({
        operatorId: node.id,
        output: downstream,
        late: (record) => {
          counts.late += 1;
          outputs.late(record);
        },
        deadLetter: (reason, record) => this.#deadLetter(reason, record),
        keyedState: (codec) => state(node.id, codec),
      });
      operators.unshift(operator);
      downstream = { record: (record) => operator.processRecord(record), watermark: (watermark) => operator.processWatermark(watermark) };
    }
    this.#operators = operators;
    this.#head = downstream;
  }

  /** The partition's watermark: −∞ before the first record, +∞ after the end of input. */
  get watermark(): number {
    return this.#generator.current;
  }

  /** Pushes one record through the operators, then advances the watermark past it, which fires what is due. */
  processRecord(value: Record<string, unknown>, timestamp: number, key?: string): void {
    this.counts.recordsIn += 1;
    const record: StreamRecord = key === undefined ? { value, timestamp } : { value, timestamp, key };
    if (!Number.isFinite(timestamp)) {
      this.#deadLetter(`the event time ${String(timestamp)} is not a number of epoch milliseconds`, record);
      return;
    }
    this.#head.record(record);
    const before = this.#generator.current;
    this.#advance(before, this.#generator.onRecord(timestamp));
  }

  /** The bounded input has ended: the watermark moves to +∞ and every window fires. */
  endOfInput(): void {
    const before = this.#generator.current;
    this.#advance(before, this.#generator.endOfInput());
  }

  /** Continues from a snapshot: the state given to the constructor holds it; this sets the watermark and rebuilds timers. */
  restore(watermark: number): void {
    this.#generator.restore(watermark);
    for (const operator of this.#operators) operator.restore(watermark);
  }

  /** A GDPR erasure (erasure/): each operator deletes what it holds for the subject; returns the state entries deleted. */
  eraseKey(subject: KeyValue): number {
    let deleted = 0;
    for (const operator of this.#operators) deleted += operator.eraseKey?.(subject) ?? 0;
    return deleted;
  }

  /** Undefined while every operator has room for more input; else resolves when they have (see Operator.room). */
  room(): Promise<void> | undefined {
    const waits = this.#operators.map((operator) => operator.room?.()).filter((wait) => wait !== undefined);
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
  }

  /**
   * Resolves once every record handed to the task has left its asynchronous operators, with the function that lets
   * input in again (room() waits until then): a commit takes its offsets in between. Upstream operators settle first,
   * since what they emit still has to pass the ones after them.
   */
  async settle(): Promise<() => void> {
    const releases: (() => void)[] = [];
    const release = (): void => releases.forEach((letIn) => letIn());
    try {
      for (const operator of this.#operators) if (operator.settle !== undefined) releases.push(await operator.settle());
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  #advance(before: number, after: number): void {
    if (after > before) this.#head.watermark(after);
  }

  #deadLetter(reason: string, record: StreamRecord): void {
    this.counts.deadLettered += 1;
    this.#outputs.deadLetter({ reason, record });
  }
}
