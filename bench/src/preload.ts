// The preload: N generated transactions produced as fast as the broker takes them, to their key's partition, then an end-of-input marker per partition.
import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { END_OF_INPUT_HEADER, GeneratorSource, type GeneratorOptions } from '@sluice/runtime';

export interface PreloadOptions {
  brokers: string[];
  topic: string;
  events: number;
  partitions: number;
  /** The generated events and the field whose value is each record's key (and partition); transactions keyed by customer_id when absent. */
  workload?: PreloadWorkload;
  /** Producers sending at once: while one waits for the broker's answer the others' requests are in flight. */
  producers?: number;
  /**
   * Events per produce request (split by partition). Small on purpose: kafkajs groups a request's messages by partition
   * with an array copy per message (groupMessagesPerPartition), quadratic in messages per partition; 1200 preloads
   * about twice as fast as 12 000 here.
   */
  batch?: number;
  log: (line: string) => void;
}

export interface PreloadResult {
  producers: number;
  batch: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

/** The workload: 10 000 customers at 1000 events/s of event time, up to 10 s out of order, 0.1 % an hour late; unbounded without `events`. */
export function transactionWorkload(seed: number, events: number | undefined, partitions: number, batch: number): GeneratorOptions {
  const workload: GeneratorOptions = {
    workload: 'transactions',
    seed,
    keys: 10_000,
    rate: 1000,
    disorder: 10_000,
    lateFraction: 0.001,
    lateBy: 3_600_000,
    partitions,
    batchSize: batch,
  };
  return events === undefined ? workload : { ...workload, count: events };
}

/** The workload: 10 000 users signing in at 1000 events/s of event time, up to 10 s out of order, keyed (and partitioned) by ip as the failed-logins job expects. */
export function loginWorkload(seed: number, events: number | undefined, partitions: number, batch: number): GeneratorOptions {
  const workload: GeneratorOptions = { workload: 'logins', seed, keys: 10_000, rate: 1000, disorder: 10_000, partitions, keyField: 'ip', batchSize: batch };
  return events === undefined ? workload : { ...workload, count: events };
}

export interface PreloadWorkload {
  generator: (seed: number, events: number | undefined, partitions: number, batch: number) => GeneratorOptions;
  keyField: string;
}

export const TRANSACTIONS: PreloadWorkload = { generator: transactionWorkload, keyField: 'customer_id' };
export const LOGINS_BY_IP: PreloadWorkload = { generator: loginWorkload, keyField: 'ip' };

/** A pool of producers, each with at most one request in flight; `send` waits for a free one. */
class ProducerPool {
  readonly #idle: Producer[];
  readonly #waiting: ((producer: Producer) => void)[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #failure: Error | undefined;

  constructor(readonly producers: Producer[]) {
    this.#idle = [...producers];
  }

  async send(topic: string, messages: Message[]): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const producer = this.#idle.pop() ?? (await new Promise<Producer>((resolve) => this.#waiting.push(resolve)));
    // Idempotent, so acks=-1: a send that kafkajs retries after a slow answer on a loaded machine must not write its
    // batch twice (a non-idempotent preload once left 3,380 records for 3,000 events, and the jobs read them all).
    const sent = producer.send({ topic, acks: -1, messages }).then(
      () => undefined,
      (error: Error) => {
        this.#failure ??= error;
      },
    );
    const tracked = sent.finally(() => {
      this.#inFlight.delete(tracked);
      const next = this.#waiting.shift();
      if (next === undefined) this.#idle.push(producer);
      else next(producer);
    });
    this.#inFlight.add(tracked);
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }
}

export async function preload(options: PreloadOptions): Promise<PreloadResult> {
  const { brokers, topic, events, partitions, log } = options;
  const batch = options.batch ?? 1200;
  const workload = options.workload ?? TRANSACTIONS;
  const count = options.producers ?? 8;
  const kafka = new Kafka({ brokers, clientId: 'sluice-bench-preload', logLevel: logLevel.NOTHING });
  const producers = Array.from({ length: count }, () => kafka.producer({ allowAutoTopicCreation: false, idempotent: true }));
  await Promise.all(producers.map((producer) => producer.connect()));
  const pool = new ProducerPool(producers);
  const started = performance.now();
  let sent = 0;
  let reported = started;
  try {
    const source = new GeneratorSource(workload.generator(1, events, partitions, batch));
    let pending: Message[] = [];
    for await (const part of source.read()) {
      for (const record of part.records)
        pending.push({ partition: part.partition, key: String(record.value[workload.keyField]), value: JSON.stringify(record.value) });
      if (pending.length >= batch) {
        await pool.send(topic, pending);
        sent += pending.length;
        pending = [];
      }
      if (performance.now() - reported >= 5000) {
        reported = performance.now();
        log(`preload: ${sent} of ${events} events sent`);
      }
    }
    if (pending.length > 0) await pool.send(topic, pending);
    sent += pending.length;
    await pool.drain();
    await producers[0]!.send({
      topic,
      acks: -1,
      messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
  } finally {
    await Promise.all(producers.map((producer) => producer.disconnect()));
  }
  const seconds = (performance.now() - started) / 1000;
  return { producers: count, batch, events: sent, seconds, eventsPerSecond: sent / seconds };
}
