// Event-time watermarks: Flink's bounded out-of-orderness per input, and the minimum over several inputs with idle handling.

/** The watermark before any record: nothing is known yet, so nothing may fire. */
export const WATERMARK_START = Number.NEGATIVE_INFINITY;
/** The watermark at the end of a bounded input: every window fires. */
export const WATERMARK_END = Number.POSITIVE_INFINITY;

/** Processing time in epoch milliseconds; passed in so that tests and replays control it. */
export type Clock = () => number;

function checkMillis(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a whole, non-negative number of milliseconds, not ${value}`);
  }
  return value;
}

/**
 * One input's watermark: the largest event time seen − maxOutOfOrderness − 1 ms, advanced after
 * every record (never on a timer), so replaying an input gives the same watermarks every time.
 */
export class BoundedOutOfOrdernessWatermark {
  readonly maxOutOfOrderness: number;
  #maxTimestamp = WATERMARK_START;
  #ended = false;

  constructor(maxOutOfOrderness: number) {
    this.maxOutOfOrderness = checkMillis('maxOutOfOrderness', maxOutOfOrderness);
  }

  get current(): number {
    return this.#ended ? WATERMARK_END : this.#maxTimestamp - this.maxOutOfOrderness - 1;
  }

  /** Takes one record's event time into account and returns the watermark after it. */
  onRecord(timestamp: number): number {
    if (timestamp > this.#maxTimestamp) this.#maxTimestamp = timestamp;
    return this.current;
  }

  /** The bounded input has ended: the watermark moves to +∞. */
  endOfInput(): number {
    this.#ended = true;
    return this.current;
  }

  /** Continues from a watermark taken from a snapshot, as if the records before it had been seen. */
  restore(watermark: number): void {
    this.#ended = watermark === WATERMARK_END;
    this.#maxTimestamp = this.#ended ? WATERMARK_START : watermark + this.maxOutOfOrderness + 1;
  }
}

interface InputWatermark {
  watermark: number;
  lastActivity: number;
}

export interface WatermarkCombinerOptions {
  /** How long an input may go without data before it stops holding the minimum back; never, when absent. */
  idleTimeout?: number;
  clock: Clock;
}

/**
 * The watermark of an operator with several inputs (partitions): the minimum over the inputs that
 * are not idle. An input is idle once it has had no data for `idleTimeout` of processing time, counted
 * from the combiner's creation for an input that never had any; it holds the minimum back again as
 * soon as it has data. When every input is idle, the watermark moves to the largest input watermark,
 * as Flink's StatusWatermarkValve does, so pending windows still fire. The combined watermark never
 * goes back: records of an input that was idle and lags behind may then be late.
 */
export class WatermarkCombiner {
  readonly #inputs = new Map<number, InputWatermark>();
  readonly #idleTimeout: number | undefined;
  readonly #clock: Clock;
  #combined = WATERMARK_START;

  constructor(inputs: readonly number[], options: WatermarkCombinerOptions) {
    if (inputs.length === 0) throw new RangeError('a watermark combiner needs at least one input');
    this.#idleTimeout = options.idleTimeout === undefined ? undefined : checkMillis('idleTimeout', options.idleTimeout);
    this.#clock = options.clock;
    const now = this.#clock();
    for (const input of inputs) this.#inputs.set(input, { watermark: WATERMARK_START, lastActivity: now });
  }

  /** An input had data and its own watermark is now `watermark` (an input's watermark never goes back). */
  update(input: number, watermark: number): void {
    const state = this.#inputs.get(input);
    if (state === undefined) {
      throw new RangeError(`input ${input} is not one of this combiner's inputs (${[...this.#inputs.keys()].join(', ')})`);
    }
    state.lastActivity = this.#clock();
    if (watermark > state.watermark) state.watermark = watermark;
  }

  /** The combined watermark as of now on the clock. */
  current(): number {
    const now = this.#clock();
    let activeMin = WATERMARK_END;
    let anyActive = false;
    let overallMax = WATERMARK_START;
    for (const { watermark, lastActivity } of this.#inputs.values()) {
      overallMax = Math.max(overallMax, watermark);
      if (this.#idleTimeout === undefined || now - lastActivity < this.#idleTimeout) {
        anyActive = true;
        activeMin = Math.min(activeMin, watermark);
      }
    }
    const candidate = anyActive ? activeMin : overallMax;
    if (candidate > this.#combined) this.#combined = candidate;
    return this.#combined;
  }
}
