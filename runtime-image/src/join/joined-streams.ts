// The other streams of interval joins in one process (streamctl run): read beside the job's stream, one batch of each after each batch of it.
import type { JobTable } from '../compiler/job.js';
import type { Source, SourceBatch } from '../connectors/source.js';
import type { TableJoinTasks } from './table-tasks.js';

/** Where a record of another stream goes that cannot be joined (no event time, no key): its reason and the record. */
export type JoinedDeadLetter = (reason: string, line: Record<string, unknown>) => void;

interface Reading {
  name: string;
  batches: AsyncIterator<SourceBatch>;
  ended: boolean;
}

/**
 * Interleaving is by batch, so a replay of the same files is byte-identical: after each batch of the job's stream
 * (up to 1024 lines of a file), one batch of each other stream; when the job's stream ends, the rest of the others.
 */
export class JoinedStreams {
  readonly #readings: Reading[];
  readonly #tasks: TableJoinTasks;
  readonly #deadLetter: JoinedDeadLetter;

  private constructor(readings: Reading[], tasks: TableJoinTasks, deadLetter: JoinedDeadLetter) {
    this.#readings = readings;
    this.#tasks = tasks;
    this.#deadLetter = deadLetter;
  }

  /** Opens the other stream of each interval join, from where the tasks' state says they stopped; they must have the stream's partition count. */
  static async open(
    joins: readonly JobTable[],
    inputs: ReadonlyMap<string, Source> | undefined,
    streamPartitions: number,
    tasks: TableJoinTasks,
    deadLetter: JoinedDeadLetter,
  ): Promise<JoinedStreams> {
    const readings: Reading[] = [];
    for (const join of joins.filter((table) => table.interval === true)) {
      const name = join.source.name;
      const input = inputs?.get(name);
      if (input === undefined) throw new Error(`the join ${join.joinId} reads the stream ${name}, and the run has no input for it`);
      const partitions = await input.partitions();
      if (partitions.length !== streamPartitions) {
        throw new Error(
          `the join ${join.joinId} reads the stream ${name} co-partitioned with the job's stream, but it has ${partitions.length} partition(s) and the job's stream ${streamPartitions}: give both the same partition count`,
        );
      }
      const read = tasks.partitionsRead(name, partitions);
      readings.push({ name, batches: input.read({ partitions: read, from: tasks.positions(name, read) })[Symbol.asyncIterator](), ended: false });
    }
    return new JoinedStreams(readings, tasks, deadLetter);
  }

  /** One batch of each other stream that has not ended. */
  async step(): Promise<void> {
    for (const reading of this.#readings) await this.#next(reading);
  }

  /** The rest of every other stream; then each ends, and its watermark moves to +∞. */
  async drain(): Promise<void> {
    for (const reading of this.#readings) {
      while (!reading.ended) await this.#next(reading);
      this.#tasks.ended(reading.name);
    }
  }

  async #next(reading: Reading): Promise<void> {
    if (reading.ended) return;
    const next = await reading.batches.next();
    if (next.done === true) {
      reading.ended = true;
      return;
    }
    const batch = next.value;
    for (const record of batch.records) {
      const refused = this.#tasks.apply(reading.name, { partition: batch.partition, offset: record.offset, key: null, value: record.value }).rejected;
      if (refused !== undefined) this.#deadLetter(refused.reason, { record: record.value });
    }
    for (const rejected of batch.rejected) this.#deadLetter(rejected.reason, { raw: rejected.raw.toString('utf8') });
    this.#tasks.reached(reading.name, batch.partition, batch.next);
  }
}
