// Where a local run writes: result lines (JSON or compact), late records and dead letters, each a Sink of the connector contract.
import type { DeadLetter, Sink, SinkRecord } from '../connectors/sink.js';
import { JsonLinesSink } from '../connectors/file/sink.js';

/** A field as people read it: strings bare, numbers without binary-fraction noise (71680.46, not 71680.46000000002). */
function shown(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'number' && Number.isFinite(item) && !Number.isInteger(item)) return String(Number(item.toPrecision(12)));
  return JSON.stringify(item) ?? String(item);
}

/** A value as one short line: `customer_id=C1 window_start=… txn_count=3`, for people watching a terminal. */
export function compactLine(value: Record<string, unknown>): string {
  return Object.entries(value)
    .map(([field, item]) => `${field}=${shown(item)}`)
    .join(' ');
}

/** Results as compact lines on a stream (stdout), written on commit like the JSON-lines sink. */
export class CompactLinesSink implements Sink {
  #lines: string[] = [];

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  write(record: SinkRecord): DeadLetter | undefined {
    this.#lines.push(`${compactLine(record.value)}\n`);
    return undefined;
  }

  async commit(): Promise<void> {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    await new Promise<void>((resolve, reject) => this.out.write(text, (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return this.commit();
  }
}

/** A JSON-lines file (or "-" for stdout), emptied first: a run's output is that run's alone. */
export function jsonLinesOutput(target: string): JsonLinesSink {
  return new JsonLinesSink(target, { truncate: true });
}

/**
 * What a dead letter holds: the reason, and the record as decoded or, for input that would not decode, the raw
 * line (in base64 where it is not UTF-8); only the reason where the record cannot be written as JSON.
 */
export type DeadLetterLine =
  { reason: string; record: Record<string, unknown> } | { reason: string; raw: string } | { reason: string; rawBase64: string } | { reason: string };

/** Dead letters without a file: the first few reasons on stderr, the rest counted in the summary. */
export class StderrDeadLetters implements Sink {
  #shown = 0;

  constructor(
    private readonly limit: number,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  write(record: SinkRecord): DeadLetter | undefined {
    if (this.#shown < this.limit) {
      this.#shown += 1;
      this.err.write(`dead letter: ${String(record.value.reason)}\n`);
    }
    return undefined;
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
