// The JSON-lines file source: one partition, line order, offset = 0-based line index; a bad line is rejected, not thrown.
import type { ReadOptions, Rejected, Source, SourceBatch, SourceRecord } from '../source.js';
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
    for await (const { index, text } of this.lines(next)) {
      if (this.closed) return;
      next = index + 1;
      if (text.trim() === '') continue;
      const parsed = parse(text);
      if ('value' in parsed) records.push({ value: parsed.value, partition: 0, offset: index });
      else rejected.push({ partition: 0, offset: index, reason: `${this.path} line ${index + 1}: ${parsed.reason}`, raw: text });
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

function parse(text: string): { value: Record<string, unknown> } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not valid JSON (${(error as Error).message}); each line must hold one JSON object` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: `a JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not an object; each line must hold one JSON object` };
  }
  return { value: value as Record<string, unknown> };
}
