// The Kafka sink: results encoded by the sink's format (JSON by default) keyed by a key template, handed to an outbox (a transaction, or a plain producer).
import type { DeadLetter, Sink, SinkRecord } from '../connectors/sink.js';
import { parseKeyTemplate, type KeyTemplate } from '../connectors/key-template.js';
import type { KeyValue } from '../dataflow/keys.js';
import { subjectSinkKeys } from '../erasure/sink-keys.js';
import type { OutgoingMessage, PlainProducer } from './client.js';
import { fitsAlone, messageBytes } from './message-size.js';
import { JsonSerializer } from '../serde/json.js';
import type { Serializer } from '../serde/serde.js';

/**
 * A message key longer than this (UTF-8 bytes) is refused: the result is dead-lettered before it is partitioned.
 * Keys are hashed and compared whole on every message and every compaction; a key this long is a bad record.
 */
export const MAX_KEY_BYTES = 16 * 1024;

/** Where produced messages wait until they are made durable. */
export interface Outbox {
  /** Takes the message, or says why it cannot be sent (it would not fit its topic's record batch on its own). */
  add(message: OutgoingMessage): string | undefined;
  /** Makes what was added durable; a transactional outbox's transaction does that, so there it resolves at once. */
  flush(): Promise<void>;
}

export interface KafkaSinkOptions {
  topic: string;
  /** The message key template, such as `{customer_id}`, or one already parsed (with expressions); messages have no key without one. */
  key?: string | KeyTemplate | undefined;
  outbox: Outbox;
  /** How results become message values; plain JSON without one. `start` looks up its subject before the first write. */
  serializer?: Serializer | undefined;
}

export class KafkaSink implements Sink {
  readonly topic: string;
  readonly #key: KeyTemplate | undefined;
  readonly #outbox: Outbox;
  readonly #serializer: Serializer;

  constructor(options: KafkaSinkOptions) {
    this.topic = options.topic;
    this.#key = typeof options.key === 'string' ? parseKeyTemplate(options.key) : options.key;
    this.#outbox = options.outbox;
    this.#serializer = options.serializer ?? new JsonSerializer();
  }

  /** Looks up the writer's subject (avro, json-schema); the job does not start without it. */
  start(): Promise<void> {
    return this.#serializer.start();
  }

  write(record: SinkRecord): DeadLetter | undefined {
    let key: string | null = null;
    if (this.#key !== undefined) {
      const rendered = this.#key.render(record.value);
      if (!rendered.ok) return { reason: `Kafka sink ${this.topic}: ${rendered.reason}`, record };
      key = rendered.key;
      // Checked by length first: a key of n characters takes at most 3n bytes.
      if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) {
        return {
          reason: `Kafka sink ${this.topic}: the key is ${Buffer.byteLength(key)} bytes, over the ${MAX_KEY_BYTES} bytes a key may take (it starts ${JSON.stringify(key.slice(0, 32))})`,
          record,
        };
      }
    }
    const encoded = this.#serializer.encode(record.value);
    if (!encoded.ok) return { reason: `Kafka sink ${this.topic}: ${encoded.reason}`, record };
    const refused = this.#outbox.add({ topic: this.topic, key, value: encoded.value });
    return refused === undefined ? undefined : { reason: `Kafka sink ${this.topic}: ${refused}`, record };
  }

  /** A GDPR erasure: a tombstone (no value) under each key the key template renders for the subject, in the transaction. */
  erase(field: string, subject: KeyValue): boolean {
    const keys = this.#key === undefined ? undefined : subjectSinkKeys(this.#key, field, subject);
    if (keys === undefined) return false;
    for (const key of keys) this.#outbox.add({ topic: this.topic, key, value: null });
    return true;
  }

  commit(): Promise<void> {
    return this.#outbox.flush();
  }

  close(): Promise<void> {
    return this.#outbox.flush();
  }
}

/** Why a message cannot be sent, when it would not fit a record batch of its topic on its own; checked where the topic's limit is known. */
function refusal(message: OutgoingMessage, limits: ReadonlyMap<string, number>): string | undefined {
  const limit = limits.get(message.topic);
  if (limit === undefined || fitsAlone(message, limit)) return undefined;
  return `the message takes ${messageBytes(message)} bytes, over the ${limit} bytes (max.message.bytes) a record batch of topic ${message.topic} may take`;
}

/** An outbox for use without exactly-once: a plain (idempotent) producer sends on each flush. */
export class ProducerOutbox implements Outbox {
  #pending: OutgoingMessage[] = [];

  constructor(
    private readonly producer: PlainProducer,
    private readonly limits: ReadonlyMap<string, number> = new Map(),
  ) {}

  add(message: OutgoingMessage): string | undefined {
    const refused = refusal(message, this.limits);
    if (refused === undefined) this.#pending.push(message);
    return refused;
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
  #limits: ReadonlyMap<string, number> = new Map();

  /** The topics' limits per record batch (max.message.bytes): a message over its topic's is refused by `add`. */
  limitTo(limits: ReadonlyMap<string, number>): void {
    this.#limits = limits;
  }

  add(message: OutgoingMessage): string | undefined {
    const refused = refusal(message, this.#limits);
    if (refused === undefined) this.#pending.push(message);
    return refused;
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
