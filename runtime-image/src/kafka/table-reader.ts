// A join's other source on Kafka, read_committed: a table's partitions the pod's tasks hold, first to their end at start-up, then as they change; an interval join's other stream beside the stream.
import { messageOf, showValue } from '../error-message.js';
import type { JobTable } from '../compiler/job.js';
import type { TableChange } from '../join/table-join.js';
import type { TableJoinTasks } from '../join/table-tasks.js';
import type { Fetch, FetchedBatch, FetchedMessage, KafkaClient } from './client.js';
import { END_OF_INPUT_HEADER } from './records.js';

/** What a table message could not be, with where it came from: the task set dead-letters it. */
export interface TableMessageRejected {
  reason: string;
  message: FetchedMessage;
}

export interface TableReaderOptions {
  client: KafkaClient;
  table: JobTable;
  /** The stream's partition count: a co-partitioned table must have as many. */
  streamPartitions: number;
  tasks: TableJoinTasks;
  /** Called before each batch is applied; the batch waits for it (a commit point in progress). */
  beforeBatch: () => Promise<void> | undefined;
  /** The tasks a batch changed (their state holds new rows and positions), and the messages that were refused. */
  applied: (tasks: ReadonlySet<number>, rejected: readonly TableMessageRejected[]) => void;
  onError: (error: Error) => void;
}

/** A message's table change: the key as text and the JSON object, or null for a tombstone. */
export function tableChangeOf(message: FetchedMessage): TableChange | { reason: string } {
  const key = message.key === null ? null : message.key.toString('utf8');
  if (message.value === null) return { partition: message.partition, offset: message.offset, key, value: null };
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    return {
      reason: `table ${message.topic}: not valid JSON (${messageOf(error)}); a table message is a JSON object, or no value (a tombstone) to delete its key`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      reason: `table ${message.topic}: ${showValue(value)} is not a JSON object; a table message is a JSON object, or no value (a tombstone) to delete its key`,
    };
  }
  return { partition: message.partition, offset: message.offset, key, value: value as Record<string, unknown> };
}

export class KafkaTableReader {
  readonly topic: string;
  readonly table: JobTable;
  readonly #options: TableReaderOptions;
  #fetch: Fetch | undefined;
  /** Per partition read, the next offset: where the reading stands. */
  readonly #next = new Map<number, number>();
  #waiting: { ends: Map<number, number>; resolve: () => void } | undefined;

  constructor(options: TableReaderOptions) {
    if (options.table.source.kind !== 'kafka') {
      throw new Error(`the table ${options.table.source.name} reads a ${options.table.source.kind} source; on Kafka a table is a topic (spec.sources[].kafka)`);
    }
    this.topic = options.table.source.topic;
    this.table = options.table;
    this.#options = options;
  }

  /**
   * Starts reading and resolves once every partition read has reached the end it had when reading started: the table
   * as it stood then is in the tasks' state before the stream's first record. Reading goes on until `stop`.
   */
  async start(): Promise<void> {
    const { client, table, streamPartitions, tasks } = this.#options;
    const name = table.source.name;
    const count = await client.partitionCount(this.topic);
    if (count === 0)
      throw new Error(
        `the table topic ${this.topic} (source ${name}) does not exist: create it (a Topic resource, compacted) or correct its spec.sources[].kafka.topic`,
      );
    if (!table.broadcast && count !== streamPartitions) {
      throw new Error(
        `the join ${table.joinId} reads the table ${this.topic} co-partitioned with the stream, but it has ${count} partition(s) and the stream ${streamPartitions}: ` +
          'task p holds table partition p, so give both topics the same partition count (and key both by the join key), or set broadcast: true on the join for a table every task holds whole',
      );
    }
    const partitions = tasks.partitionsRead(
      name,
      Array.from({ length: count }, (_, p) => p),
    );
    if (partitions.length === 0) return;
    const from = tasks.positions(name, partitions);
    const ends = await client.endOffsets(this.topic);
    for (const partition of partitions) this.#next.set(partition, from[partition] ?? 0);
    // An interval join's other stream is a stream: read beside the job's stream, not to its end before it.
    const behind = new Set(table.interval === true ? [] : partitions.filter((p) => (ends.get(p) ?? 0) > (from[p] ?? 0)));
    let caughtUp!: () => void;
    const bootstrapped = new Promise<void>((resolve) => (caughtUp = resolve));
    let failed!: (error: Error) => void;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    const advance = (partition: number, next: number): void => {
      this.#next.set(partition, Math.max(next, this.#next.get(partition) ?? 0));
      if (behind.has(partition) && next >= (ends.get(partition) ?? 0)) behind.delete(partition);
      if (behind.size === 0) caughtUp();
      this.#checkWaiting();
    };
    if (behind.size === 0) caughtUp();
    this.#fetch = await client.fetch({
      topics: [this.topic],
      partitions,
      start: (_topic, partition) => from[partition] ?? 0,
      readCommitted: true,
      onBatch: async (batch) => {
        await this.#options.beforeBatch();
        this.#apply(batch);
        advance(batch.partition, batch.next);
      },
      onPosition: (_topic, partition, next) => advance(partition, next),
      onError: (error) => {
        failed(error);
        this.#options.onError(error);
      },
    });
    await Promise.race([bootstrapped, failure]);
  }

  /** Resolves once the reading has reached the end every partition read has now (a bounded run's end markers included). */
  async readToEnd(): Promise<void> {
    const ends = await this.#options.client.endOffsets(this.topic);
    await new Promise<void>((resolve) => {
      this.#waiting = { ends, resolve };
      this.#checkWaiting();
    });
  }

  #checkWaiting(): void {
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    for (const [partition, next] of this.#next) if (next < (waiting.ends.get(partition) ?? 0)) return;
    this.#waiting = undefined;
    waiting.resolve();
  }

  async stop(): Promise<void> {
    const fetch = this.#fetch;
    this.#fetch = undefined;
    await fetch?.stop();
  }

  #apply(batch: FetchedBatch): void {
    const { tasks, table } = this.#options;
    const name = table.source.name;
    const changed = new Set<number>();
    const rejected: TableMessageRejected[] = [];
    for (const message of batch.messages) {
      if (message.headers[END_OF_INPUT_HEADER] !== undefined) continue;
      const change = tableChangeOf(message);
      if ('reason' in change) {
        rejected.push({ reason: change.reason, message });
        continue;
      }
      const applied = tasks.apply(name, change);
      for (const task of applied.tasks) changed.add(task);
      if (applied.rejected !== undefined) rejected.push({ reason: applied.rejected.reason, message });
    }
    // Past what was no table change (a bad message, a transaction marker): a restart does not read it again.
    for (const task of tasks.reached(name, batch.partition, batch.next)) changed.add(task);
    this.#options.applied(changed, rejected);
  }
}
