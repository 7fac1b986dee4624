// The score operator: calls a scoring endpoint for each record (or micro-batch) with a bounded number of calls in flight, and emits records in input order.
import { messageOf, showValue } from '../error-message.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';
import type { ScoreObserver } from './metrics.js';

type Row = Record<string, unknown>;

/** Sends one call's body and resolves with the endpoint's answer; rejects with the reason the call failed for good. */
export interface ScoreEndpoint {
  call(body: unknown): Promise<unknown>;
}

export interface ScoreOptions {
  endpoint: ScoreEndpoint;
  /** One record's body; throws with the reason when it cannot be built (the record is dead-lettered at once). */
  request(record: Row): unknown;
  /** The record with its answer joined; throws with the reason when the answer does not fit. */
  join(record: Row, answer: unknown): Row;
  /** Records per call; above 1 the body is an array of bodies and the answer must be an array as long. */
  batchSize: number;
  /** Calls in flight at once (per task, that is per partition). */
  concurrency: number;
  /** Records the operator holds (waiting or in flight) before `room()` makes the source wait. */
  queueSize: number;
  observer?: ScoreObserver;
}

interface Scored {
  record: StreamRecord;
  body: unknown;
  done: boolean;
  value?: Row;
  failure?: string;
}

/** What waits in the operator, in input order: a record being scored, or a watermark that must not pass it. */
type Entry = { scored: Scored } | { watermark: number };

/**
 * Records go out in the order they came in (per task, so per partition): a record whose call finished waits for the
 * records before it. A watermark waits behind the records before it, so a window after the step never sees a record
 * as late that was on time at the source. Calls take up to batchSize waiting records each, as soon as one of the
 * `concurrency` slots is free: under load batches fill up, with a trickle of records each goes alone without waiting.
 */
export class ScoreOperator implements Operator {
  readonly id: string;
  readonly #context: OperatorContext;
  readonly #options: ScoreOptions;
  /** Everything not emitted yet, oldest first, from index #head on. */
  #entries: Entry[] = [];
  #head = 0;
  /** Records held (waiting or in flight), which the queue bound counts. */
  #held = 0;
  /** Records not sent yet, oldest first. */
  #unsent: Scored[] = [];
  #callsInFlight = 0;
  #dispatchQueued = false;
  /** Commits waiting for the operator to empty: input is held back meanwhile. */
  #holds = 0;
  /** An emission downstream threw (an engine failure, not a record's): the task cannot go on. */
  #failure: Error | undefined;
  #wakeups: (() => void)[] = [];

  constructor(context: OperatorContext, options: ScoreOptions) {
    this.id = context.operatorId;
    this.#context = context;
    this.#options = options;
  }

  processRecord(record: StreamRecord): void {
    let body: unknown;
    try {
      body = this.#options.request(record.value);
    } catch (error) {
      this.#context.deadLetter(`${this.id}: the request could not be built: ${messageOf(error)}`, record);
      return;
    }
    const scored: Scored = { record, body, done: false };
    this.#entries.push({ scored });
    this.#unsent.push(scored);
    this.#held += 1;
    // Sent after the synchronous run that handed the record in (the rest of the source batch), so calls take full batches.
    if (!this.#dispatchQueued) {
      this.#dispatchQueued = true;
      queueMicrotask(() => {
        this.#dispatchQueued = false;
        this.#dispatch();
      });
    }
  }

  processWatermark(watermark: number): void {
    if (this.#head === this.#entries.length) {
      this.#context.output.watermark(watermark);
      return;
    }
    const last = this.#entries.at(-1)!;
    // Watermarks only grow: one waiting right behind the same records is replaced, not queued again.
    if ('watermark' in last) last.watermark = watermark;
    else this.#entries.push({ watermark });
  }

  restore(): void {
    // No state: what was held in flight at a crash was never committed, so the source reads it again.
  }

  /** Undefined while there is room; else resolves when there is (the source reads on), or rejects with the operator's failure. */
  room(): Promise<void> | undefined {
    const roomy = (): boolean => this.#held < this.#options.queueSize && this.#holds === 0;
    if (roomy() && this.#failure === undefined) return undefined;
    return this.#until(roomy);
  }

  /**
   * Holds input back (`room()` waits) and resolves, once every record handed in has left the operator, with the
   * function that lets input in again: a commit calls it after taking its offsets, which then cover finished records only.
   */
  async settle(): Promise<() => void> {
    this.#holds += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      this.#wake();
    };
    try {
      await this.#until(() => this.#head === this.#entries.length);
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  async #until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (ready()) return;
      await new Promise<void>((resolve) => this.#wakeups.push(resolve));
    }
  }

  #wake(): void {
    const wakeups = this.#wakeups;
    this.#wakeups = [];
    for (const wake of wakeups) wake();
  }

  #dispatch(): void {
    const { batchSize, concurrency } = this.#options;
    while (this.#callsInFlight < concurrency && this.#unsent.length > 0) {
      const batch = this.#unsent.splice(0, batchSize);
      this.#callsInFlight += 1;
      void this.#score(batch);
    }
  }

  async #score(batch: Scored[]): Promise<void> {
    const { endpoint, observer, batchSize } = this.#options;
    const started = performance.now();
    let outcome: 'ok' | 'failed' = 'ok';
    try {
      const answer = await endpoint.call(batchSize > 1 ? batch.map(({ body }) => body) : batch[0]!.body);
      const answers = batchSize > 1 ? answersOf(answer, batch.length) : [answer];
      batch.forEach((scored, i) => {
        try {
          scored.value = this.#options.join(scored.record.value, answers[i]);
        } catch (error) {
          scored.failure = messageOf(error);
        }
      });
    } catch (error) {
      outcome = 'failed';
      for (const scored of batch) scored.failure = messageOf(error);
    }
    observer?.call(this.id, outcome, batch.length, (performance.now() - started) / 1000);
    for (const scored of batch) scored.done = true;
    this.#callsInFlight -= 1;
    try {
      this.#emitFinished();
    } catch (error) {
      this.#failure ??= error instanceof Error ? error : new Error(messageOf(error));
    }
    this.#dispatch();
    this.#wake();
  }

  /** Emits from the oldest entry on while its call has finished: records (or their dead letters) and the watermarks behind them. */
  #emitFinished(): void {
    if (this.#failure !== undefined) return;
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head]!;
      if ('scored' in entry && !entry.scored.done) break;
      this.#head += 1;
      if ('watermark' in entry) {
        this.#context.output.watermark(entry.watermark);
        continue;
      }
      this.#held -= 1;
      const { record, value, failure } = entry.scored;
      if (value !== undefined) this.#context.output.record({ ...record, value });
      else this.#context.deadLetter(`${this.id}: ${failure ?? 'no answer'}`, record);
    }
    // Emitted entries are dropped in one go, not one shift at a time.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A micro-batch's answer: an array with one answer per record, in the batch's order. */
function answersOf(answer: unknown, records: number): unknown[] {
  if (!Array.isArray(answer))
    throw new Error(`the answer to a batch of ${records} records is ${showValue(answer).slice(0, 100)}, not a JSON array of ${records} answers`);
  if (answer.length !== records)
    throw new Error(`the answer to a batch of ${records} records has ${answer.length} answers; it must have one per record, in order`);
  return answer;
}

export const scoreOperator =
  (options: ScoreOptions) =>
  (context: OperatorContext): Operator =>
    new ScoreOperator(context, options);
