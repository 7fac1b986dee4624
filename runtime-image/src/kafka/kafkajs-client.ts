// The KafkaClient on kafkajs: admin calls, static-partition fetches in a private group, and one transaction per commit.
import { randomBytes } from 'node:crypto';
import kafkajs, {
  Kafka,
  logLevel,
  type Admin,
  type ConfigResourceTypes as ConfigResourceType,
  type IHeaders,
  type KafkaMessage,
  type Message,
  type Producer,
  type ProducerBatch,
} from 'kafkajs';
import type {
  CommittedOffset,
  Fetch,
  FetchOptions,
  FetchedMessage,
  KafkaClient,
  OutgoingMessage,
  PlainProducer,
  RawHeaders,
  TopicRequest,
  TransactionContents,
  TransactionalProducer,
} from './client.js';
import { explainKafkaError, explainKafkaErrorPrecisely, type KafkaAccess, type KafkaConnectionOptions, type KafkaListener } from '@sluice/crds';
import { murmur2, partitionOf } from '../connectors/partitioner.js';
import { BATCH_OVERHEAD_BYTES, DEFAULT_MAX_MESSAGE_BYTES, messageBytes } from './message-size.js';
import { retried } from './retry.js';
import { staticAssigner } from './static-assignment.js';

// kafkajs is CommonJS: Node's ESM loader exposes only some of its exports by name (not ConfigResourceTypes), so it is read off the default export.
const { ConfigResourceTypes } = kafkajs;

/** Messages per partition (or per topic, for messages the partitioner places) in one produce request. */
const SEND_CHUNK = 1000;

/** Bytes of messages in one produce request, well below the broker's socket.request.max.bytes (100 MiB by default). */
const REQUEST_BYTES = 32 << 20;

export interface KafkajsClientOptions {
  brokers: readonly string[];
  clientId?: string;
  /** kafkajs's own log lines; none by default: failures reach the engine as rejected calls, and retried ones (CONCURRENT_TRANSACTIONS after each commit) are noise. */
  logLevel?: logLevel;
  /** How long a transaction may stay open before the broker aborts it; a zombie's open transaction blocks read_committed readers that long at most. */
  transactionTimeoutMs?: number;
  /** TLS and SASL, from connections.kafka's Secret (kafkaConnectionFromEnv); plaintext without. */
  connection?: KafkaConnectionOptions;
}

/** Every fetch joins a private group of this prefix and a random suffix: an ACL on the prefix lets a job read. */
export const FETCH_GROUP_PREFIX = 'sluice-fetch-';

/** The WRITE a send needs: on each topic written. */
function writing(messages: readonly OutgoingMessage[]): KafkaAccess[] {
  return [{ kind: 'topic', operation: 'WRITE', names: [...new Set(messages.map(({ topic }) => topic))] }];
}

/** Shared by every message without headers (most): one object less per message for the collector. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function headersOf(headers: IHeaders | undefined): Readonly<Record<string, string>> {
  if (headers === undefined) return NO_HEADERS;
  let out: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) (out ??= {})[name] = last.toString();
  }
  return out ?? NO_HEADERS;
}

function fetched(topic: string, partition: number, message: KafkaMessage): FetchedMessage {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    key: message.key,
    value: message.value,
    headers: headersOf(message.headers),
    // kafkajs decodes header values as Buffers (a list for a repeated name): kept as they are.
    rawHeaders: (message.headers ?? NO_HEADERS) as RawHeaders,
    timestamp: Number(message.timestamp),
  };
}

/** Groups messages by topic for one produce request per broker. */
function topicMessages(messages: readonly PlacedMessage[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, partition, key, value, headers } of messages) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push({ key, value, headers: headers as IHeaders | undefined, partition });
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

/** A message whose partition is decided. */
type PlacedMessage = OutgoingMessage & { partition: number };

/** One partition's messages of a send, in order, with what is left of them. */
interface PartitionQueue {
  topic: string;
  partition: number;
  messages: PlacedMessage[];
  /** Bytes a record batch of this topic may hold (its limit less the batch's own bytes). */
  room: number;
  next: number;
}

/** What sending needs to know of each topic: its limit per record batch and its partition count. */
interface TopicFacts {
  maxMessageBytes(topic: string): Promise<number>;
  partitionCount(topic: string): Promise<number>;
}

/** Places every message without a partition as Kafka's default partitioner would: murmur2 of the key, round robin without one. */
async function placed(messages: readonly OutgoingMessage[], facts: TopicFacts, roundRobin: Map<string, number>): Promise<PlacedMessage[]> {
  const counts = new Map<string, number>();
  for (const { topic, partition } of messages) if (partition === undefined && !counts.has(topic)) counts.set(topic, await facts.partitionCount(topic));
  if (counts.size === 0) return messages as PlacedMessage[];
  return messages.map((message) => {
    if (message.partition !== undefined) return message as PlacedMessage;
    const count = counts.get(message.topic)!;
    if (count === 0) throw new Error(`the Kafka topic ${message.topic} does not exist: create it (a Topic resource) before the job writes to it`);
    const { key } = message;
    let partition: number;
    if (key === null) {
      partition = roundRobin.get(message.topic) ?? 0;
      roundRobin.set(message.topic, (partition + 1) % count);
    } else {
      partition = typeof key === 'string' ? partitionOf(key, count) : (murmur2(key) & 0x7fffffff) % count;
    }
    return { ...message, partition };
  });
}

/**
 * Sends the messages in as few produce requests as their sizes allow. The broker takes a partition's part of a
 * request as one record batch, refused whole when it is over the topic's max.message.bytes; and kafkajs groups a
 * request's messages by partition in time quadratic in their number. So the k-th request carries the k-th slice
 * of every partition: at most SEND_CHUNK messages and the topic's limit in bytes each, REQUEST_BYTES in all. That
 * keeps every partition's order; in a transaction, every request is part of it.
 */
async function sendInChunks(
  messages: readonly OutgoingMessage[],
  facts: TopicFacts,
  roundRobin: Map<string, number>,
  send: (batch: ProducerBatch) => Promise<unknown>,
): Promise<void> {
  const byPartition = new Map<string, PartitionQueue>();
  const rooms = new Map<string, number>();
  for (const message of await placed(messages, facts, roundRobin)) {
    const where = `${message.topic}\u0000${message.partition}`;
    let queue = byPartition.get(where);
    if (queue === undefined) {
      let room = rooms.get(message.topic);
      if (room === undefined) rooms.set(message.topic, (room = (await facts.maxMessageBytes(message.topic)) - BATCH_OVERHEAD_BYTES));
      byPartition.set(where, (queue = { topic: message.topic, partition: message.partition, messages: [], room, next: 0 }));
    }
    queue.messages.push(message);
  }
  let open = [...byPartition.values()];
  while (open.length > 0) {
    const request: PlacedMessage[] = [];
    let requestBytes = 0;
    for (const queue of open) {
      let batchBytes = 0;
      for (let taken = 0; taken < SEND_CHUNK && queue.next < queue.messages.length; taken++) {
        const message = queue.messages[queue.next]!;
        const bytes = messageBytes(message);
        if (taken === 0 && bytes > queue.room) throw tooLarge(queue, bytes);
        if (batchBytes + bytes > queue.room || (request.length > 0 && requestBytes + bytes > REQUEST_BYTES)) break;
        request.push(message);
        batchBytes += bytes;
        requestBytes += bytes;
        queue.next += 1;
      }
    }
    await send({ topicMessages: topicMessages(request) });
    open = open.filter((queue) => queue.next < queue.messages.length);
  }
}

/** The value `read` gives for `key`, read once; a failed read is forgotten, so the next call reads again. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (value === undefined) {
    value = read();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}

function tooLarge(queue: PartitionQueue, bytes: number): Error {
  return new Error(
    `a message of ${bytes} bytes for topic ${queue.topic} partition ${queue.partition} does not fit a record batch of the topic ` +
      `(max.message.bytes ${queue.room + BATCH_OVERHEAD_BYTES}): raise the topic's max.message.bytes, or make the message smaller`,
  );
}

export class KafkajsClient implements KafkaClient {
  readonly #kafka: Kafka;
  readonly #transactionTimeoutMs: number;
  /** Where the client connects and as whom: what a refusal's message names. */
  readonly #listener: KafkaListener;
  #admin: Promise<Admin> | undefined;
  /** Per topic, its limit per record batch, read once. */
  readonly #maxMessageBytes = new Map<string, Promise<number>>();
  /** The broker's message.max.bytes, read once. */
  #brokerMaxMessageBytes: Promise<number> | undefined;
  /** Per topic written to, its partition count, read once (as a producer's metadata would be). */
  readonly #partitionCounts = new Map<string, Promise<number>>();
  /** Per topic, the partition the next message without a key goes to. */
  readonly #roundRobin = new Map<string, number>();
  readonly #facts: TopicFacts = {
    maxMessageBytes: (topic) => this.maxMessageBytes(topic),
    partitionCount: (topic) => cached(this.#partitionCounts, topic, () => this.partitionCount(topic)),
  };

  constructor(options: KafkajsClientOptions) {
    this.#kafka = new Kafka({
      brokers: [...options.brokers],
      clientId: options.clientId ?? 'sluice',
      logLevel: options.logLevel ?? logLevel.NOTHING,
      ...options.connection,
    });
    this.#transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
    this.#listener = { brokers: options.brokers, connection: options.connection ?? {} };
  }

  /** `call`, with a failed sign-in or a missing ACL said as what to grant (and not retried). */
  async #explained<T>(accesses: readonly KafkaAccess[], call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw await explainKafkaErrorPrecisely(error, this.#listener, accesses);
    }
  }

  #adminClient(): Promise<Admin> {
    this.#admin ??= this.#explained([], async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    });
    return this.#admin;
  }

  ensureTopics(topics: readonly TopicRequest[]): Promise<void> {
    const names = topics.map(({ topic }) => topic);
    return this.#explained([{ kind: 'topic', operation: 'CREATE', names }], () => retried(() => this.#ensureTopics(topics)));
  }

  async #ensureTopics(topics: readonly TopicRequest[]): Promise<void> {
    if (topics.length === 0) return;
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ topic, partitions, config }) => ({
          topic,
          numPartitions: partitions,
          configEntries: Object.entries(config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      // Another pod created them in the meantime: that is the outcome wanted.
      if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
    }
  }

  partitionCount(topic: string): Promise<number> {
    return this.#explained([{ kind: 'topic', operation: 'DESCRIBE', names: [topic] }], () => this.#partitionCount(topic));
  }

  async #partitionCount(topic: string): Promise<number> {
    const admin = await this.#adminClient();
    const existing = await retried(() => admin.listTopics());
    if (!existing.includes(topic)) return 0;
    const { topics } = await retried(() => admin.fetchTopicMetadata({ topics: [topic] }));
    return topics[0]?.partitions.length ?? 0;
  }

  maxMessageBytes(topic: string): Promise<number> {
    return cached(this.#maxMessageBytes, topic, () => this.#readMaxMessageBytes(topic));
  }

  /** The topic's max.message.bytes, capped by the broker's message.max.bytes; Kafka's default where the broker will not say (no DescribeConfigs right). */
  async #readMaxMessageBytes(topic: string): Promise<number> {
    const admin = await this.#adminClient();
    const configValue = async (type: ConfigResourceType, name: string, config: string): Promise<number> => {
      try {
        const { resources } = await retried(() => admin.describeConfigs({ includeSynonyms: false, resources: [{ type, name, configNames: [config] }] }));
        const value = Number(resources[0]?.configEntries.find((entry) => entry.configName === config)?.configValue);
        return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
      } catch {
        return DEFAULT_MAX_MESSAGE_BYTES;
      }
    };
    this.#brokerMaxMessageBytes ??= (async () => {
      const { brokers } = await retried(() => admin.describeCluster());
      return brokers.length === 0 ? DEFAULT_MAX_MESSAGE_BYTES : configValue(ConfigResourceTypes.BROKER, String(brokers[0]!.nodeId), 'message.max.bytes');
    })();
    const [broker, ofTopic] = await Promise.all([this.#brokerMaxMessageBytes, configValue(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes')]);
    return Math.min(broker, ofTopic);
  }

  endOffsets(topic: string): Promise<Map<number, number>> {
    return this.#explained([{ kind: 'topic', operation: 'DESCRIBE', names: [topic] }], () => this.#endOffsets(topic));
  }

  async #endOffsets(topic: string): Promise<Map<number, number>> {
    const admin = await this.#adminClient();
    const offsets = () =>
      admin.fetchTopicOffsets(topic).catch((error: unknown) => {
        // kafkajs reads an empty ListOffsets answer (seen while a partition's log moves on) as `low.pop()` of nothing: a passing state, asked again.
        if (error instanceof TypeError && /\b(low|high)\.pop\(\.\.\.\)/.test(error.message)) throw Object.assign(error, { retriable: true });
        throw error;
      });
    return new Map((await retried(offsets)).map(({ partition, high }) => [partition, Number(high)]));
  }

  deleteRecordsBefore(topic: string, offsets: ReadonlyMap<number, number>): Promise<void> {
    return this.#explained([{ kind: 'topic', operation: 'DELETE', names: [topic] }], async () => {
      const admin = await this.#adminClient();
      const partitions = [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) }));
      await retried(() => admin.deleteTopicRecords({ topic, partitions }));
    });
  }

  committedOffsets(groupId: string, topic: string): Promise<Map<number, CommittedOffset>> {
    const accesses: KafkaAccess[] = [
      { kind: 'group', operation: 'DESCRIBE', names: [groupId] },
      { kind: 'topic', operation: 'DESCRIBE', names: [topic] },
    ];
    return this.#explained(accesses, () => this.#committedOffsets(groupId, topic));
  }

  async #committedOffsets(groupId: string, topic: string): Promise<Map<number, CommittedOffset>> {
    const admin = await this.#adminClient();
    const [answer] = await retried(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const committed = new Map<number, CommittedOffset>();
    for (const { partition, offset, metadata } of answer?.partitions ?? []) {
      if (Number(offset) >= 0) committed.set(partition, { offset: Number(offset), metadata });
    }
    return committed;
  }

  async fetch(options: FetchOptions): Promise<Fetch> {
    const groupId = `${FETCH_GROUP_PREFIX}${randomBytes(6).toString('hex')}`;
    const accesses: KafkaAccess[] = [
      { kind: 'topic', operation: 'READ', names: options.topics },
      { kind: 'group', operation: 'READ', names: [`${groupId} (every group whose name starts with ${FETCH_GROUP_PREFIX})`] },
    ];
    const consumer = this.#kafka.consumer({
      groupId,
      partitionAssigners: [staticAssigner(options.partitions)],
      readUncommitted: options.readCommitted === false,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1 << 20,
      // The pod is the group's only member: a long session keeps a busy event loop (a slow commit, a loaded machine)
      // from costing it the group; the group dies with the pod anyway.
      sessionTimeout: 300_000,
      rebalanceTimeout: 300_000,
      // A restart after a crash would rejoin with offsets from this group, which holds none: fail instead, and let the engine restart from its own.
      retry: { retries: 5, restartOnFailure: () => Promise.resolve(false) },
    });
    // The next offset to hand on per partition: the engine's start, then past every batch handed on.
    const positions = new Map<string, number>();
    const at = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
    for (const topic of options.topics) {
      for (const partition of options.partitions) positions.set(at(topic, partition), options.start(topic, partition));
    }
    const seekAll = (): void => {
      for (const topic of options.topics) {
        for (const partition of options.partitions) consumer.seek({ topic, partition, offset: String(positions.get(at(topic, partition))) });
      }
    };
    let joins = 0;
    let stopped = false;
    const fail = (error: Error): void => {
      if (!stopped) options.onError(explainKafkaError(error, this.#listener, accesses) as Error);
    };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joins += 1;
      // A rejoin (a heartbeat that stalled past the session) resets the group's positions: put ours back.
      if (joins > 1) seekAll();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      options.onPosition?.(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
    });
    await this.#explained(accesses, async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    });
    void consumer
      .run({
        // Resolving moves the fetch position past each batch; nothing is committed to this group.
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const position = positions.get(at(batch.topic, batch.partition)) ?? 0;
          // A fetch issued before a rejoin's seek took hold may start behind the position: those records were handed on already.
          const messages = batch.messages.filter((message) => Number(message.offset) >= position);
          if (messages.length === 0) return;
          const next = Number(batch.lastOffset()) + 1;
          await options.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            messages: messages.map((message) => fetched(batch.topic, batch.partition, message)),
            next,
            highWatermark: Number(batch.highWatermark),
          });
          positions.set(at(batch.topic, batch.partition), next);
        },
      })
      .catch((error: Error) => fail(error));
    // run() creates the group synchronously, so these seeks are in place before its first fetch.
    seekAll();
    return {
      stop: async () => {
        stopped = true;
        await consumer.disconnect();
      },
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const accesses: KafkaAccess[] = [
      { kind: 'transactional-id', operation: 'WRITE', names: [transactionalId] },
      { kind: 'cluster', operation: 'IDEMPOTENT_WRITE', names: [] },
    ];
    const producer = this.#kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.#transactionTimeoutMs,
      // The broker answers CONCURRENT_TRANSACTIONS while it still writes the previous commit's markers, for a few ms:
      // kafkajs's default first retry after 300 ms would stall every commit interval (Java's client retries after 20 ms).
      retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 10 },
    });
    await this.#explained(accesses, async () => {
      await retried(() => producer.connect());
      // The first transaction sends InitProducerId for the id: the broker bumps its epoch, aborts what a previous instance
      // left open and fences it. Done now, so the changelog's end offsets read afterwards include no open transaction.
      await retried(async () => (await producer.transaction()).abort());
    });
    return new KafkajsTransactionalProducer(transactionalId, producer, this.#facts, this.#roundRobin, this.#listener);
  }

  async producer(): Promise<PlainProducer> {
    const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.#explained([{ kind: 'cluster', operation: 'IDEMPOTENT_WRITE', names: [] }], () => producer.connect());
    return {
      send: (messages) => this.#explained(writing(messages), () => sendInChunks(messages, this.#facts, this.#roundRobin, (batch) => producer.sendBatch(batch))),
      close: () => producer.disconnect(),
    };
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await (await admin).disconnect();
  }
}

class KafkajsTransactionalProducer implements TransactionalProducer {
  constructor(
    readonly transactionalId: string,
    private readonly producer: Producer,
    private readonly facts: TopicFacts,
    private readonly roundRobin: Map<string, number>,
    private readonly listener: KafkaListener,
  ) {}

  async commit(contents: TransactionContents): Promise<void> {
    const accesses: KafkaAccess[] = [
      ...writing(contents.messages),
      { kind: 'group', operation: 'READ', names: [contents.groupId] },
      { kind: 'transactional-id', operation: 'WRITE', names: [this.transactionalId] },
    ];
    try {
      await this.#commit(contents);
    } catch (error) {
      throw await explainKafkaErrorPrecisely(error, this.listener, accesses);
    }
  }

  async #commit({ messages, groupId, offsets }: TransactionContents): Promise<void> {
    const transaction = await this.producer.transaction();
    try {
      await sendInChunks(messages, this.facts, this.roundRobin, (batch) => transaction.sendBatch(batch));
      if (offsets.length > 0) {
        const byTopic = new Map<string, { partition: number; offset: string; metadata: string }[]>();
        for (const { topic, partition, offset, metadata } of offsets) {
          let list = byTopic.get(topic);
          if (list === undefined) byTopic.set(topic, (list = []));
          list.push({ partition, offset: String(offset), metadata });
        }
        // kafkajs sends AddOffsetsToTxn without retrying: right after the previous commit the coordinator may still be
        // writing its markers and answer CONCURRENT_TRANSACTIONS, which Java's client retries, and so does this.
        await retried(() => transaction.sendOffsets({ consumerGroupId: groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) }), {
          initialMs: 10,
        });
      }
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}
