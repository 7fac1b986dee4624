// The generator source: the seed's workloads as a deterministic, partitioned, resumable stream.
import { setImmediate } from 'node:timers/promises';
import { partitionOf } from '../partitioner.js';
import type { ReadOptions, Source, SourceBatch, SourceRecord } from '../source.js';
import { Events } from './events.js';
import type { GeneratorOptions, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';

export class GeneratorSource implements Source {
  readonly bounded: boolean;
  /** The options with defaults filled in; `start` is the resolved epoch ms (also for `start: 'now'`). */
  readonly options: Readonly<ResolvedOptions>;
  private closed = false;

  constructor(options: GeneratorOptions) {
    this.options = resolveOptions(options);
    this.bounded = this.options.count !== undefined;
  }

  partitions(): Promise<number[]> {
    return Promise.resolve(Array.from({ length: this.options.partitions }, (_, p) => p));
  }

  /**
   * Every read generates the whole stream from its first event and keeps the owned partitions' events from
   * `from` on: the stream does not depend on which partitions are read, so pods that own different partitions
   * of the same generator see one consistent stream. Resuming costs regenerating the skipped events.
   */
  async *read(options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    const { partitions, keyField, batchSize } = this.options;
    const owned = new Set(options.partitions ?? (await this.partitions()));
    for (const p of owned) {
      if (!Number.isInteger(p) || p < 0 || p >= partitions)
        throw new Error(`generator partition ${p} does not exist: the generator has partitions 0…${partitions - 1}`);
    }
    const from = options.from ?? {};
    const offsets = new Array<number>(partitions).fill(0);
    const total = this.options.count ?? Number.POSITIVE_INFINITY;
    const events = new Events(this.options);
    while (!this.closed && events.index < total) {
      const buffers: SourceRecord[][] = [];
      const end = Math.min(events.index + batchSize, total);
      while (events.index < end) {
        const value = events.next();
        const partition = partitions === 1 ? 0 : partitionOf(String(value[keyField]), partitions);
        const offset = offsets[partition]!;
        offsets[partition] = offset + 1;
        if (owned.has(partition) && offset >= (from[partition] ?? 0)) (buffers[partition] ??= []).push({ value, partition, offset });
      }
      for (const [partition, records] of buffers.entries()) {
        if (records && records.length > 0) yield { partition, records, rejected: [], next: records[records.length - 1]!.offset + 1 };
      }
      // Let timers, I/O and signals run between steps: a generator running as fast as possible must not starve them.
      await setImmediate();
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
