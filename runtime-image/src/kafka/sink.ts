// The Kafka sink: results as JSON messages keyed by a key template, handed to an outbox (a transaction, or a plain producer).
import type { DeadLetter, Sink, SinkRecord } from '../connectors/sink.js';
import { parseKeyTemplate, type KeyTemplate } from '../connectors/key-template.js';
import type { OutgoingMessage, PlainProducer } from './client.js';

/** Where produced messages wait until they are made durable. */
export interface Outbox {
  add(message: OutgoingMessage): void;
  /** Makes what was added durable; a transactional outbox's transaction does that, so there it resolves at once. */
  flush(): Promise<void>;
}

export interface KafkaSinkOptions {
  topic: string;
  /** The message key template, such as `{customer_id}`, or one already parsed (with expressions); messages have no key without one. */
  key?: string | KeyTemplate | undefined;
  outbox: Outbox;
}

export class KafkaSink implements Sink {
  readonly topic: string;
  readonly #key: KeyTemplate | undefined;
  readonly #outbox: Outbox;

  constructor(options: KafkaSinkOptions) {
    this.topic = options.topic;
    this.#key = typeof options.key === 'string' ? parseKeyTemplate(options.key) : options.key;
    this.#outbox = options.outbox;
  }

  write(record: SinkRecord): DeadLetter | undefined {
    let key: string | null = null;
    if (this.#key !== undefined) {
      const rendered = this.#key.render(record.value);
      if (!rendered.ok) return { reason: `Kafka sink ${this.topic}: ${rendered.reason}`, record };
      key = rendered.key;
    }
    this.#outbox.add({ topic: this.topic, key, value: JSON.stringify(record.value) });
    return undefined;
  }

  commit(): Promise<void> {
    return this.#outbox.flush();
  }

  close(): Promise<void> {
    return this.#outbox.flush();
  }
}

/** An outbox for use without exactly-once: a plain (idempotent) producer sends on each flush. */
export class ProducerOutbox implements Outbox {
  #pending: OutgoingMessage[] = [];

  constructor(private readonly producer: PlainProducer) {}

  add(message: OutgoingMessage): void {
    this.#pending.push(message);
  }

  async flush(): Promise<void> {
    const messages = this.#pending;
    this.#pending = [];
    await this.producer.send(messages);
  }
}

/** The exactly-once outbox: the engine takes its messages into the commit interval's transaction. */
export class TransactionOutbox implements Outbox {
  #pending: OutgoingMessage[] = [];

  add(message: OutgoingMessage): void {
    this.#pending.push(message);
  }

  /** Everything added since the last call, for the next transaction. */
  take(): OutgoingMessage[] {
    const messages = this.#pending;
    this.#pending = [];
    return messages;
  }

  get size(): number {
    return this.#pending.length;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
