// The Kafka source: owned partitions of a topic, read_committed, decoded by the source's format (JSON by default), as the engine's SourceBatch stream.
import type { ReadOptions, Source, SourceBatch, SourceRecord, Rejected } from '../connectors/source.js';
import type { FetchedBatch, KafkaClient } from './client.js';
import { Formats } from '../serde/open.js';
import type { Deserializer, RecordFormat } from '../serde/serde.js';
import { END_OF_INPUT_HEADER, decodeMessage } from './records.js';

export interface KafkaSourceOptions {
  client: KafkaClient;
  topic: string;
  /**
   * The input ends once every partition read has reached a message with the `sluice.end-of-input`
   * header (a bounded run over a topic: tests, benchmarks, backfills). Otherwise it never ends.
   */
  endMarkers?: boolean;
  maxBytesPerPartition?: number;
  /** How message values are encoded (the job source's format), opened with the job's registry; plain JSON without one. */
  format?: RecordFormat | undefined;
  /** How message values become records, given directly (a test's registry); takes the place of `format`. */
  deserializer?: Deserializer | undefined;
}

interface Queued {
  batch: SourceBatch;
  release: () => void;
}

export class KafkaSource implements Source {
  readonly bounded: boolean;
  readonly topic: string;
  /** Per partition, the messages behind the end of the partition after the last batch read: the consumer lag. */
  readonly lag = new Map<number, number>();
  readonly #options: KafkaSourceOptions;
  readonly #deserializer: Deserializer;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: KafkaSourceOptions) {
    this.#options = options;
    this.topic = options.topic;
    this.bounded = options.endMarkers === true;
    this.#deserializer = options.deserializer ?? new Formats().deserializer(options.format, 'spec.sources[0]');
  }

  async partitions(): Promise<number[]> {
    const count = await this.#options.client.partitionCount(this.topic);
    if (count === 0) throw new Error(`the Kafka topic ${this.topic} does not exist: create it (a Topic resource) or correct spec.sources[0].kafka.topic`);
    return Array.from({ length: count }, (_, p) => p);
  }

  /**
   * Batches in offset order per partition. The fetch waits while a batch is being processed (the
   * caller asks for the next one only when done), so a slow consumer holds the fetch back.
   */
  async *read(options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    const partitions = options.partitions ?? (await this.partitions());
    const from = options.from ?? {};
    const open = new Set(partitions);
    const queue: Queued[] = [];
    // The batch handed to the caller: released after it was processed, or in `finally` when processing threw.
    let handedOut: Queued | undefined;
    let reading = true;
    let failure: Error | undefined;
    const wake = (): void => {
      const waiting = this.#wake;
      this.#wake = undefined;
      waiting?.();
    };
    const fetch = await this.#options.client.fetch({
      topics: [this.topic],
      partitions,
      start: (_topic, partition) => from[partition] ?? 0,
      readCommitted: true,
      maxBytesPerPartition: this.#options.maxBytesPerPartition,
      // Once reading has ended nobody takes batches: one fetched meanwhile is let go at once, or the fetch's stop would wait on it for ever.
      // The schemas a batch's records name are fetched before it is decoded, holding this partition's fetch meanwhile.
      onBatch: async (fetched) => {
        if (!reading) return;
        await this.#deserializer.prepare(fetched.messages.map((message) => message.value));
        if (!reading) return;
        await new Promise<void>((release) => {
          queue.push({ batch: this.#decode(fetched, open), release });
          wake();
        });
      },
      onError: (error) => {
        failure = error;
        wake();
      },
    });
    try {
      while (!this.#closed && (!this.bounded || open.size > 0 || queue.length > 0)) {
        if (failure !== undefined) throw failure;
        const next = queue.shift();
        if (next === undefined) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        handedOut = next;
        if (next.batch.records.length > 0 || next.batch.rejected.length > 0 || this.bounded) yield next.batch;
        handedOut = undefined;
        next.release();
      }
    } finally {
      reading = false;
      handedOut?.release();
      for (const { release } of queue.splice(0)) release();
      await fetch.stop();
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    return Promise.resolve();
  }

  #decode(fetched: FetchedBatch, open: Set<number>): SourceBatch {
    const { partition } = fetched;
    const records: SourceRecord[] = [];
    const rejected: Rejected[] = [];
    let next = fetched.next;
    for (const message of fetched.messages) {
      if (this.bounded && !open.has(partition)) break;
      if (this.bounded && message.headers[END_OF_INPUT_HEADER] !== undefined) {
        open.delete(partition);
        next = message.offset + 1;
        break;
      }
      const decoded = decodeMessage(message, this.#deserializer);
      if (decoded.ok) records.push(decoded.record);
      else rejected.push(decoded.rejected);
    }
    this.lag.set(partition, Math.max(0, fetched.highWatermark - next));
    return { partition, records, rejected, next };
  }
}
