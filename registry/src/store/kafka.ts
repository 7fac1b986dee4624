// The replicated store: the log as a compacted Kafka topic (`_schemas`), read to its end on open and after every write.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';
import { explainKafkaError, type KafkaAccess, type KafkaConnectionOptions, type KafkaListener } from '@sluice/crds/kafka-connection';
import { operationTimeout, recordTooLarge } from '../errors.js';
import type { LogRecord } from '../model.js';
import type { ApplyRecord, Store } from './store.js';

export interface KafkaStoreOptions {
  brokers: string[];
  /** The log topic; Confluent's default is `_schemas`. */
  topic?: string;
  /** How long a write or a read-to-the-end may take before the request fails. */
  timeoutMs?: number;
  /** TLS and SASL from the Kafka Secret (kafkaConnectionFromDir); plaintext without. */
  connection?: KafkaConnectionOptions;
}

interface Waiter {
  offset: number;
  resolve: () => void;
}

export class KafkaStore implements Store {
  readonly description: string;
  readonly topic: string;
  private readonly kafka: Kafka;
  /** The admin client logs nothing: replicas starting together race to create the topic, and its real failures are thrown. */
  private readonly quietKafka: Kafka;
  private readonly listener: KafkaListener;
  private readonly timeoutMs: number;
  private readonly groupId = `sluice-registry-${randomUUID()}`;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  /** The offset of the last record applied locally; -1 before the first. */
  private appliedOffset = -1;
  /** Offsets of refused records (rare: concurrent writers racing), so a writer learns its record lost. */
  private readonly refused = new Set<number>();
  private waiters: Waiter[] = [];

  constructor(options: KafkaStoreOptions) {
    this.topic = options.topic ?? '_schemas';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.description = `kafka:${options.brokers.join(',')}/${this.topic}`;
    this.kafka = new Kafka({ clientId: 'sluice-registry', brokers: options.brokers, logLevel: logLevel.WARN, ...options.connection });
    this.quietKafka = new Kafka({ clientId: 'sluice-registry-admin', brokers: options.brokers, logLevel: logLevel.NOTHING, ...options.connection });
    this.listener = { brokers: options.brokers, connection: options.connection ?? {} };
  }

  /** Opens the store; a failed sign-in or a missing ACL says what to fix (docs/security.md lists the registry's ACLs). */
  async open(apply: ApplyRecord): Promise<void> {
    const accesses: KafkaAccess[] = [
      { kind: 'topic', operation: 'WRITE', names: [this.topic] },
      { kind: 'group', operation: 'READ', names: [`${this.groupId} (every group whose name starts with sluice-registry-)`] },
    ];
    try {
      await this.#open(apply);
    } catch (error) {
      throw explainKafkaError(error, this.listener, accesses);
    }
  }

  async #open(apply: ApplyRecord): Promise<void> {
    this.admin = this.quietKafka.admin();
    await this.admin.connect();
    await this.ensureTopic(this.admin);
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    // A fetch returns as soon as a record arrives; the short wait only bounds how long close() waits for an idle fetch.
    this.consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 500 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: ({ message }) => {
        const offset = Number(message.offset);
        if (message.key) {
          const record: LogRecord = decodeRecord(message.key, message.value);
          if (!apply(record)) this.refused.add(offset);
        }
        this.advance(offset);
        return Promise.resolve();
      },
    });
    await this.sync();
  }

  /** Creates the topic compacted with one partition (one order for all records) when it does not exist. */
  private async ensureTopic(admin: Admin): Promise<void> {
    const existing = await admin.listTopics();
    if (existing.includes(this.topic)) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
    } catch (error) {
      const alreadyThere = (error as { errors?: Array<{ type?: string }> }).errors?.every((e) => e.type === 'TOPIC_ALREADY_EXISTS');
      if (!alreadyThere) throw error;
    }
  }

  private advance(offset: number): void {
    this.appliedOffset = offset;
    const ready = this.waiters.filter((w) => w.offset <= offset);
    this.waiters = this.waiters.filter((w) => w.offset > offset);
    for (const waiter of ready) waiter.resolve();
  }

  private waitApplied(offset: number, what: string): Promise<void> {
    if (offset <= this.appliedOffset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          operationTimeout(
            `${what}: offset ${offset} of ${this.topic} was not read back within ${this.timeoutMs} ms; check that Kafka at ${this.description} is reachable`,
          ),
        );
      }, this.timeoutMs);
      const waiter: Waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  async append(records: LogRecord[]): Promise<boolean[]> {
    if (!this.producer) throw new Error('the Kafka store is not open: call open() first');
    const messages = records.map((record) => ({
      partition: 0,
      key: JSON.stringify(record.key),
      value: record.value === null ? null : JSON.stringify(record.value),
    }));
    const [metadata] = await this.producer.send({ topic: this.topic, acks: -1, messages }).catch((error: unknown) => {
      // Retrying cannot help a record the broker finds too large, and Confluent's clients retry a 500.
      if ((error as { type?: string }).type === 'MESSAGE_TOO_LARGE')
        throw recordTooLarge(this.topic, Math.max(...messages.map((m) => Buffer.byteLength(m.key) + Buffer.byteLength(m.value ?? ''))));
      throw error;
    });
    const base = Number(metadata?.baseOffset ?? metadata?.offset);
    const offsets = records.map((_, index) => base + index);
    await this.waitApplied(offsets[offsets.length - 1]!, 'writing to the registry log');
    return offsets.map((offset) => !this.refused.delete(offset));
  }

  async sync(): Promise<void> {
    if (!this.admin) throw new Error('the Kafka store is not open: call open() first');
    const [partition] = await this.admin.fetchTopicOffsets(this.topic);
    const end = Number(partition?.high ?? 0) - 1;
    await this.waitApplied(end, 'reading the registry log to its end');
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    if (this.admin) {
      await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
      await this.admin.disconnect();
    }
    this.consumer = this.producer = this.admin = undefined;
  }
}

function decodeRecord(key: Buffer, value: Buffer | null): LogRecord {
  return {
    key: JSON.parse(key.toString('utf8')) as LogRecord['key'],
    value: value ? (JSON.parse(value.toString('utf8')) as LogRecord['value']) : null,
  } as LogRecord;
}
