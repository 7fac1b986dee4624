// The source contract every connector implements: batches of decoded records per partition, resumable by offset.

/**
 * Input nested deeper than this (objects and arrays inside each other) is rejected as it is decoded: deeper
 * values would overflow the stack of every recursive step after it (CEL, JSON.stringify, state codecs).
 */
export const MAX_NESTING_DEPTH = 64;

/** Message headers as bytes; a name that occurs more than once holds its values in order. */
export type RawHeaders = Readonly<Record<string, Buffer | readonly Buffer[]>>;

/** A message's bytes exactly as they arrived: what its dead letter carries, so the dead letter is the input itself. */
export interface ArrivedMessage {
  key: Buffer | null;
  value: Buffer | null;
  rawHeaders: RawHeaders;
  /** The message's own timestamp, epoch ms. */
  timestamp: number;
}

/** One decoded input record, as read: the engine derives its event time and key from `value`. */
export interface SourceRecord {
  value: Record<string, unknown>;
  partition: number;
  offset: number;
  /** The message as it arrived, where the input has messages (Kafka). */
  arrived?: ArrivedMessage;
}

/** An input that could not be decoded: a dead-letter candidate, reported instead of thrown so the job goes on. */
export interface Rejected {
  partition: number;
  offset: number;
  /** What is wrong and where, for a person reading the dead-letter output (bounded: it quotes at most a prefix of the input). */
  reason: string;
  /** The input's bytes as read (a message's value, a file's line). */
  raw: Buffer;
  /** The whole message as it arrived, where the input has messages (Kafka). */
  arrived?: ArrivedMessage;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether the bytes hold more than `limit` opening brackets and braces: counted by indexOf (memchr), cheaper than a scan for the many records that hold few. */
function openingsOver(bytes: Uint8Array, limit: number): boolean {
  let count = 0;
  for (const opening of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let at = bytes.indexOf(opening); at !== -1; at = bytes.indexOf(opening, at + 1)) if (++count > limit) return true;
  }
  return false;
}

/**
 * True when the JSON text in `bytes` nests objects and arrays more than `limit` deep. A scan of the bytes, so
 * it runs before the parse and costs no allocation; text shorter than 2 × (limit + 1) bytes, or with no more
 * than `limit` openings, cannot nest deeper.
 */
export function nestedDeeperThan(bytes: Uint8Array, limit = MAX_NESTING_DEPTH): boolean {
  const length = bytes.length;
  if (length < 2 * (limit + 1) || !openingsOver(bytes, limit)) return false;
  let depth = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      for (i++; i < length && bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
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
