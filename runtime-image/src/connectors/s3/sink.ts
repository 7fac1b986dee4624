// The S3 data-lake sink: each commit's results staged as chunks per source partition, made visible as Hive-partitioned Parquet or JSON-lines files only once the transaction covering them has committed.
import { randomBytes } from 'node:crypto';
import { messageOf } from '../../error-message.js';
import type { DeadLetter, Sink, SinkRecord } from '../sink.js';
import { chunkLine, encodeFinal, EXTENSIONS, parseChunk, type LakeFormat } from './files.js';
import {
  chunkKey,
  committedChunkOf,
  finalKey,
  hivePartition,
  metadataField,
  planRecovery,
  rollMarkerKey,
  stagingFolder,
  type ChunkRef,
  type CommittedChunk,
} from './layout.js';
import type { LakeStore } from './store.js';

/** Committed chunks of a partition holding this many bytes are rolled without waiting for rollInterval. */
export const ROLL_BYTES = 64 * 1024 * 1024;

export interface LakeSinkOptions {
  /** The sink's name in the job: its field in the committed offsets' metadata. */
  name: string;
  store: LakeStore;
  /** The key prefix, `features/velocity/`, or '' for the bucket's root. */
  prefix: string;
  format: LakeFormat;
  /** How long after the oldest committed chunk of a partition its chunks are rolled into final files, in ms. */
  rollInterval: number;
  /**
   * On a runtime pod: chunks wait for the Kafka transaction (stage, commit, committed, recover). In streamctl run,
   * which has no transaction, each commit's chunks count as committed at once.
   */
  transactional: boolean;
  rollBytes?: number;
  /** Times rollInterval; Date.now by default. */
  now?: () => number;
}

/** A chunk and its lines while this pod holds it. */
interface HeldChunk extends ChunkRef {
  partition: number;
  body: string;
}

/** What the sink knows of one source partition. */
interface PartitionLake {
  /** The last chunk staged: the next is its sequence + 1; recorded in the partition's offset metadata. */
  last: CommittedChunk | undefined;
  /** Committed, not yet rolled, in sequence order. */
  committed: HeldChunk[];
  bytes: number;
  /** When the oldest committed chunk was committed. */
  since: number;
}

export class LakeSink implements Sink {
  readonly #options: LakeSinkOptions;
  readonly #now: () => number;
  /** This start's attempt: what tells its chunks from a fenced zombie's of the same sequence. */
  readonly #attempt = randomBytes(4).toString('hex');
  /** Per partition, the lines written since the last stage. */
  readonly #lines = new Map<number, string[]>();
  readonly #partitions = new Map<number, PartitionLake>();
  /** Taken by stage, put by commit. */
  #staged: HeldChunk[] = [];
  /** Put by commit, committed once the transaction has. */
  #put: HeldChunk[] = [];

  constructor(options: LakeSinkOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  write(record: SinkRecord, partition = 0): DeadLetter | undefined {
    let line: string;
    try {
      line = chunkLine({ eventTime: record.timestamp, value: record.value });
    } catch (error) {
      return { reason: `S3 sink ${this.#options.name}: the result has no JSON form: ${messageOf(error)}`, record };
    }
    const lines = this.#lines.get(partition);
    if (lines === undefined) this.#lines.set(partition, [line]);
    else lines.push(line);
    return undefined;
  }

  stage(): number[] {
    const partitions: number[] = [];
    for (const [partition, lines] of this.#lines) {
      if (lines.length === 0) continue;
      const lake = this.#lake(partition);
      const chunk: CommittedChunk = { sequence: (lake.last?.sequence ?? 0) + 1, attempt: this.#attempt };
      this.#staged.push({ ...chunk, partition, key: chunkKey(this.#options.prefix, partition, chunk), body: `${lines.join('\n')}\n` });
      lake.last = chunk;
      partitions.push(partition);
    }
    this.#lines.clear();
    return partitions;
  }

  offsetMetadata(partition: number): Record<string, unknown> {
    const last = this.#partitions.get(partition)?.last;
    return last === undefined ? {} : { [metadataField(this.#options.name)]: last };
  }

  /** Puts the staged chunks: durable before the transaction that records them commits. */
  async commit(): Promise<void> {
    if (!this.#options.transactional) this.stage();
    const staged = this.#staged;
    this.#staged = [];
    await Promise.all(staged.map((chunk) => this.#options.store.put(chunk.key, chunk.body)));
    this.#put.push(...staged);
    if (!this.#options.transactional) await this.committed();
  }

  /** The transaction recording the chunks put has committed: they are the lake's now; partitions due are rolled. */
  async committed(): Promise<void> {
    const now = this.#now();
    for (const chunk of this.#put) {
      const lake = this.#lake(chunk.partition);
      if (lake.committed.length === 0) lake.since = now;
      lake.committed.push(chunk);
      lake.bytes += chunk.body.length;
    }
    this.#put = [];
    const rollBytes = this.#options.rollBytes ?? ROLL_BYTES;
    for (const [partition, lake] of this.#partitions) {
      if (lake.committed.length > 0 && (now - lake.since >= this.#options.rollInterval || lake.bytes >= rollBytes)) await this.#rollHeld(partition, lake);
    }
  }

  /**
   * Before the first record: per owned partition, finishes a roll a crash interrupted, rolls the chunks its committed
   * offset metadata covers, and deletes the others (an aborted transaction's, whose records are replayed; a zombie's).
   */
  async recover(committed: ReadonlyMap<number, Record<string, unknown>>): Promise<void> {
    const { store, prefix, name } = this.#options;
    for (const [partition, metadata] of committed) {
      const last = committedChunkOf(metadata, name);
      this.#lake(partition).last = last;
      const plan = planRecovery(await store.list(stagingFolder(prefix, partition)), last);
      if (plan.discard.length > 0) await store.delete(plan.discard);
      if (plan.finishedRoll !== undefined) await store.delete([plan.finishedRoll.marker]);
      if (plan.roll.length === 0) continue;
      const chunks = await Promise.all(plan.roll.map(async (chunk) => ({ ...chunk, partition, body: await store.get(chunk.key) })));
      await this.#roll(partition, chunks);
    }
  }

  /** Rolls every committed chunk (the transactions are over), then lets the S3 client go. */
  async close(): Promise<void> {
    try {
      if (!this.#options.transactional) await this.commit();
      for (const [partition, lake] of this.#partitions) if (lake.committed.length > 0) await this.#rollHeld(partition, lake);
    } finally {
      this.#options.store.close();
    }
  }

  #lake(partition: number): PartitionLake {
    let lake = this.#partitions.get(partition);
    if (lake === undefined) {
      lake = { last: undefined, committed: [], bytes: 0, since: 0 };
      this.#partitions.set(partition, lake);
    }
    return lake;
  }

  async #rollHeld(partition: number, lake: PartitionLake): Promise<void> {
    await this.#roll(partition, lake.committed);
    lake.committed = [];
    lake.bytes = 0;
  }

  /**
   * Committed chunks become one final file per Hive partition of their results' event times, named by the chunks'
   * sequence range; then the marker, then the chunks are deleted, then the marker. A crash before the marker redoes
   * the roll from the same chunks into the same keys; after it, a start only deletes.
   */
  async #roll(partition: number, chunks: readonly HeldChunk[]): Promise<void> {
    const { store, prefix, format } = this.#options;
    const byHour = new Map<string, Record<string, unknown>[]>();
    for (const chunk of chunks) {
      for (const { eventTime, value } of parseChunk(chunk.body)) {
        const hive = hivePartition(eventTime);
        const values = byHour.get(hive);
        if (values === undefined) byHour.set(hive, [value]);
        else values.push(value);
      }
    }
    await Promise.all(
      [...byHour].map(([hive, values]) => store.put(finalKey(prefix, hive, partition, chunks, EXTENSIONS[format]), encodeFinal(format, values))),
    );
    const marker = rollMarkerKey(prefix, partition, chunks[0]!.sequence, chunks.at(-1)!.sequence);
    await store.put(marker, chunks.map((chunk) => chunk.key).join('\n'));
    await store.delete(chunks.map((chunk) => chunk.key));
    await store.delete([marker]);
  }
}
