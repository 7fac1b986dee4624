// The consume-only ceiling: the engine's own Kafka client (kafkajs behind KafkaClient) reading every record of the topic, read_committed, with no processing.
import { END_OF_INPUT_HEADER, KafkajsClient, decodeJson } from '@sluice/runtime';

export interface CeilingResult {
  records: number;
  seconds: number;
  eventsPerSecond: number;
  /** From the start of the fetch to the first batch: the consumer's connect and group join. */
  firstBatchSeconds: number;
}

/**
 * Reads partitions 0…n−1 of `topic` from offset 0 to their current end; fails after `timeoutMs` naming how far it got. With
 * `decode`, each record also goes through the Kafka source's JSON decoding (and nothing else): how much of the gap that alone is.
 */
export async function consumeCeiling(brokers: string[], topic: string, timeoutMs: number, decode = false): Promise<CeilingResult> {
  const client = new KafkajsClient({ brokers, clientId: 'sluice-bench-ceiling' });
  try {
    const ends = await client.endOffsets(topic);
    const remaining = new Map([...ends].filter(([, end]) => end > 0));
    let records = 0;
    let firstBatch: number | undefined;
    let finish!: () => void;
    let fail!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const advance = (partition: number, next: number): void => {
      if (next >= (remaining.get(partition) ?? Number.POSITIVE_INFINITY)) remaining.delete(partition);
      if (remaining.size === 0) finish();
    };
    const started = performance.now();
    const fetch = await client.fetch({
      topics: [topic],
      partitions: [...ends.keys()],
      start: () => 0,
      readCommitted: true,
      onBatch: (batch) => {
        firstBatch ??= performance.now();
        // The end markers are the preload's, not records; the engine does not count them either.
        for (const message of batch.messages) {
          if (message.headers[END_OF_INPUT_HEADER] !== undefined) continue;
          if (decode && !decodeJson(message).ok)
            throw new Error(`${topic} partition ${message.partition} offset ${message.offset} is not a JSON object: the preload wrote something else`);
          records += 1;
        }
        advance(batch.partition, batch.next);
        return Promise.resolve();
      },
      onPosition: (_topic, partition, next) => advance(partition, next),
      onError: fail,
    });
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `consume-only ceiling: timed out after ${timeoutMs / 1000}s waiting to read ${topic} to its end; ${records} records read, partitions ${[...remaining.keys()].join(', ')} unfinished`,
          ),
        ),
      timeoutMs,
    );
    try {
      await finished;
    } finally {
      clearTimeout(timer);
      await fetch.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    return { records, seconds, eventsPerSecond: records / seconds, firstBatchSeconds: ((firstBatch ?? started) - started) / 1000 };
  } finally {
    await client.close();
  }
}
