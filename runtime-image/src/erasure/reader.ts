// Reads the erasure topic beside the stream (read_committed, every partition, in every pod) and hands each record to the task set.
import type { Fetch, FetchedMessage, KafkaClient } from '../kafka/client.js';
import { END_OF_INPUT_HEADER } from '../kafka/records.js';
import type { ErasureTasks } from './apply.js';
import type { JobErasure } from './spec.js';

export interface ErasureReaderOptions {
  client: KafkaClient;
  erasure: JobErasure;
  tasks: ErasureTasks;
  /** Called before each batch is applied; the batch waits for it (a commit point in progress). */
  beforeBatch: () => Promise<void> | undefined;
  /** Applies one record (synchronously, between the stream's batches). */
  apply: (message: FetchedMessage) => void;
  onError: (error: Error) => void;
}

/**
 * Starts reading from the tasks' lowest positions and resolves once every partition has reached the end it had at the
 * start: erasures made while the job was down are applied before the stream's first record. Returns the running fetch.
 */
export async function startErasureReader(options: ErasureReaderOptions): Promise<Fetch> {
  const { client, erasure, tasks } = options;
  const count = await client.partitionCount(erasure.topic);
  if (count === 0)
    throw new Error(`the erasure topic ${erasure.topic} (spec.erasure.topic) does not exist: create it (a Topic resource) or correct spec.erasure.topic`);
  const partitions = Array.from({ length: count }, (_, p) => p);
  const ends = await client.endOffsets(erasure.topic);
  const behind = new Set(partitions.filter((p) => (ends.get(p) ?? 0) > tasks.from(p)));
  let caughtUp!: () => void;
  const bootstrapped = new Promise<void>((resolve) => (caughtUp = resolve));
  let failed!: (error: Error) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  const advance = (partition: number, next: number): void => {
    if (behind.has(partition) && next >= (ends.get(partition) ?? 0)) behind.delete(partition);
    if (behind.size === 0) caughtUp();
  };
  if (behind.size === 0) caughtUp();
  const fetch = await client.fetch({
    topics: [erasure.topic],
    partitions,
    start: (_topic, partition) => tasks.from(partition),
    readCommitted: true,
    onBatch: async (batch) => {
      await options.beforeBatch();
      for (const message of batch.messages) if (message.headers[END_OF_INPUT_HEADER] === undefined) options.apply(message);
      advance(batch.partition, batch.next);
    },
    onPosition: (_topic, partition, next) => advance(partition, next),
    onError: (error) => {
      failed(error);
      options.onError(error);
    },
  });
  await Promise.race([bootstrapped, failure]);
  return fetch;
}
