// A producer at a steady rate: generated transactions stamped with the wall-clock time they are sent (`produced_at`), in 10 ms steps.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { END_OF_INPUT_HEADER, GeneratorSource, type SourceBatch } from '@sluice/runtime';
import { TRANSACTIONS, type PreloadWorkload } from './preload.js';

const STEP_MS = 10;
/** Sends still unanswered after this many steps mean the broker cannot take the rate: the run says so instead of measuring a backlog. */
const MAX_IN_FLIGHT = 100;
/**
 * Events per produce request at most: after a stall (a GC pause, a loaded machine) the due count can be tens of
 * thousands, and kafkajs puts a request's messages of one partition in one record batch, which the broker refuses
 * above its 1 MiB message.max.bytes (MESSAGE_TOO_LARGE). 3,000 of these ~170-byte events over 6 partitions stay far below.
 */
const MAX_PER_SEND = 3000;

export class PacedProducer {
  /** Events sent (acknowledged or not). */
  sent = 0;
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #generated: AsyncGenerator<SourceBatch>;
  readonly #buffer: Message[] = [];
  readonly #keyField: string;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: Error | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  /** `workload`: the generated events and their key field; transactions keyed by customer_id when absent. */
  constructor(brokers: string[], topic: string, partitions: number, workload: PreloadWorkload = TRANSACTIONS) {
    this.#producer = new Kafka({ brokers, clientId: 'sluice-bench-paced', logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
    this.#topic = topic;
    this.#partitions = partitions;
    this.#generated = new GeneratorSource(workload.generator(2, undefined, partitions, 100)).read();
    this.#keyField = workload.keyField;
  }

  async start(rate: number): Promise<void> {
    await this.#producer.connect();
    this.#running = this.#run(rate);
  }

  /** Stops sending, waits for every send, and ends each partition with an end-of-input marker. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await Promise.all(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
    await this.#producer.send({
      topic: this.#topic,
      messages: Array.from({ length: this.#partitions }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
    await this.close();
  }

  /** Stops sending and disconnects, without end markers (a failed run); safe after `stop`. */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#producer.disconnect();
  }

  async #run(rate: number): Promise<void> {
    const started = performance.now();
    while (!this.#stopped && this.#failure === undefined) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate) - this.sent;
      for (let left = due; left > 0 && this.#failure === undefined; left -= MAX_PER_SEND) await this.#send(Math.min(left, MAX_PER_SEND));
      await sleep(STEP_MS);
    }
  }

  async #send(count: number): Promise<void> {
    if (this.#inFlight.size >= MAX_IN_FLIGHT) {
      this.#failure = new Error(`the paced producer has ${MAX_IN_FLIGHT} sends unanswered: the broker does not keep up with the rate; lower --rate`);
      return;
    }
    while (this.#buffer.length < count) {
      const next = await this.#generated.next();
      if (next.done === true) break;
      for (const record of next.value.records)
        this.#buffer.push({ partition: next.value.partition, key: String(record.value[this.#keyField]), value: JSON.stringify(record.value) });
    }
    const now = Date.now();
    // The stamp goes in as the last field, without parsing the generated JSON again.
    const messages = this.#buffer.splice(0, count).map((m) => ({ ...m, value: `${(m.value as string).slice(0, -1)},"produced_at":${now}}` }));
    this.sent += messages.length;
    const sending = this.#producer.send({ topic: this.#topic, messages }).then(
      () => undefined,
      (error: Error) => {
        this.#failure ??= error;
      },
    );
    const tracked = sending.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
