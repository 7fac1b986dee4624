// The source contract every connector implements: batches of decoded records per partition, resumable by offset.

/** One decoded input record, as read: the engine derives its event time and key from `value`. */
export interface SourceRecord {
  value: Record<string, unknown>;
  partition: number;
  offset: number;
}

/** An input that could not be decoded: a dead-letter candidate, reported instead of thrown so the job goes on. */
export interface Rejected {
  partition: number;
  offset: number;
  /** What is wrong and where, for a person reading the dead-letter output. */
  reason: string;
  /** The input as read. */
  raw: string;
}

/** Consecutive input of one partition, in offset order. */
export interface SourceBatch {
  partition: number;
  records: SourceRecord[];
  rejected: Rejected[];
  /** The offset this partition resumes from once the batch is processed (its position after the batch). */
  next: number;
}

/** Per partition, the offset of the next input to read: what a checkpoint stores and a restore passes back. */
export type Positions = Readonly<Record<number, number>>;

export interface ReadOptions {
  /** The partitions to read (the ones this task set owns); all of `partitions()` when absent. */
  partitions?: readonly number[];
  /** Where to resume; a partition that is absent starts at its beginning. */
  from?: Positions;
}

export interface Source {
  /** True when the input ends (a file, a generator with a count); the engine then moves the watermark to +∞. */
  readonly bounded: boolean;
  /** Every partition of the input, ascending. */
  partitions(): Promise<number[]>;
  /**
   * The input as batches, each of one partition, in offset order within each partition. Ends when a bounded
   * input is exhausted or the source is closed. Each call reads afresh from `from`.
   */
  read(options?: ReadOptions): AsyncIterable<SourceBatch>;
  /** Ends any read in progress and releases what the source holds. */
  close(): Promise<void>;
}
