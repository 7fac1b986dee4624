// The JSON-lines sink: one line per result (its value), written on commit, to a file or, for "-", to stdout.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { messageOf } from '../../error-message.js';
import type { DeadLetter, Sink, SinkRecord } from '../sink.js';

export interface JsonLinesSinkOptions {
  /** Empty an existing file first instead of appending to it. Default false (append). */
  truncate?: boolean;
}

/** Buffered results are handed to the stream early once they reach this size, so memory stays bounded between commits. */
const EAGER_BYTES = 1 << 20;

export class JsonLinesSink implements Sink {
  private readonly out: Writable;
  private readonly owned: boolean;
  private lines: string[] = [];
  private bytes = 0;
  private failure: Error | undefined;

  /** `target` is a file path, or "-" for stdout. */
  constructor(
    readonly target: string,
    options: JsonLinesSinkOptions = {},
  ) {
    this.owned = target !== '-';
    this.out = this.owned ? createWriteStream(target, { flags: options.truncate ? 'w' : 'a' }) : process.stdout;
    this.out.on('error', this.fail);
  }

  write(record: SinkRecord): DeadLetter | undefined {
    let line: string;
    try {
      line = `${JSON.stringify(record.value)}\n`;
    } catch (error) {
      return { reason: `cannot write the result as JSON: ${messageOf(error)}`, record };
    }
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= EAGER_BYTES) this.send();
    return undefined;
  }

  /** Resolves once every line written so far has been handed to the operating system. */
  async commit(): Promise<void> {
    this.send();
    await new Promise<void>((resolve, reject) => {
      // An empty write's callback runs after every earlier write has completed.
      this.out.write('', (error) => (error ? reject(error) : resolve()));
    });
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.commit();
    this.out.off('error', this.fail);
    if (this.owned) await new Promise<void>((resolve, reject) => this.out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  private send(): void {
    if (this.lines.length === 0) return;
    this.out.write(this.lines.join(''));
    this.lines = [];
    this.bytes = 0;
  }

  private readonly fail = (error: Error): void => {
    this.failure = new Error(`cannot write to ${this.owned ? this.target : 'stdout'}: ${error.message}`);
  };
}

/** Results as JSON lines on stdout. */
export function stdoutSink(): JsonLinesSink {
  return new JsonLinesSink('-');
}
