// The JSON-lines file source: one partition, line order, offset = 0-based line index; a bad line is rejected, not thrown.
import { messageOf } from '../../error-message.js';
import { boundedReason } from '../sink.js';
import { MAX_NESTING_DEPTH, nestedDeeperThan, type ReadOptions, type Rejected, type Source, type SourceBatch, type SourceRecord } from '../source.js';
import { readLines, type Line } from './lines.js';

export interface JsonLinesSourceOptions {
  /** Lines per batch. Default 1024. */
  batchSize?: number;
}

export class JsonLinesSource implements Source {
  readonly bounded = true;
  private readonly batchSize: number;
  private closed = false;

  constructor(
    readonly path: string,
    options: JsonLinesSourceOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1024;
  }

  partitions(): Promise<number[]> {
    return Promise.resolve([0]);
  }

  /** Blank lines are skipped (they still take their offset); a line that is not one JSON object becomes a `Rejected`. */
  async *read(options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    if (options.partitions && !options.partitions.includes(0)) return;
    let records: SourceRecord[] = [];
    let rejected: Rejected[] = [];
    let next = options.from?.[0] ?? 0;
    for await (const { index, bytes } of this.lines(next)) {
      if (this.closed) return;
      next = index + 1;
      const parsed = parse(bytes);
      if (parsed === undefined) continue;
      if ('value' in parsed) records.push({ value: parsed.value, partition: 0, offset: index });
      else rejected.push({ partition: 0, offset: index, reason: boundedReason(`${this.path} line ${index + 1}: ${parsed.reason}`), raw: bytes });
      if (records.length + rejected.length >= this.batchSize) {
        yield { partition: 0, records, rejected, next };
        records = [];
        rejected = [];
      }
    }
    if (records.length + rejected.length > 0) yield { partition: 0, records, rejected, next };
  }

  private async *lines(from: number): AsyncGenerator<Line> {
    try {
      yield* readLines(this.path, from);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`JSON-lines input ${this.path} does not exist; check the path`);
      throw error;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The line's JSON object, or why it is not one; undefined for a blank line. */
function parse(bytes: Buffer): { value: Record<string, unknown> } | { reason: string } | undefined {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  if (nestedDeeperThan(bytes))
    return { reason: `objects and arrays nested more than ${MAX_NESTING_DEPTH} levels deep; Sluice reads at most ${MAX_NESTING_DEPTH}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not valid JSON (${messageOf(error)}); each line must hold one JSON object` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: `a JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not an object; each line must hold one JSON object` };
  }
  return { value: value as Record<string, unknown> };
}
