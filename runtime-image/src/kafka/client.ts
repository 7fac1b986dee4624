// What the engine needs from a Kafka client — topics, offsets, static-partition fetching, transactions — so a faster client can replace kafkajs.
import type { RawHeaders } from '../connectors/source.js';

export type { RawHeaders };

/** A message as fetched: the raw bytes, with where it came from. */
export interface FetchedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Each header's last value as UTF-8 text, for reading markers; `rawHeaders` holds them as they arrived. */
  headers: Readonly<Record<string, string>>;
  /** The headers' bytes as they arrived (a repeated name holds its values in order): what a dead letter of this message carries. */
  rawHeaders: RawHeaders;
  /** The message's timestamp (create or log-append time), epoch ms. */
  timestamp: number;
}

/** Headers of an outgoing message: text or bytes, a list for a name that occurs more than once. */
export type OutgoingHeaders = Record<string, string | Buffer | readonly (string | Buffer)[]>;

/** Consecutive committed messages of one partition. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  messages: FetchedMessage[];
  /** The offset after this batch, past any transaction markers it spans: where the partition resumes. */
  next: number;
  /** The partition's end offset when fetched: `highWatermark − next` is the consumer lag. */
  highWatermark: number;
}

/** A message to produce; the partition is explicit where the engine owns the placement (changelog, outputs by key). */
export interface OutgoingMessage {
  topic: string;
  partition?: number;
  key: string | Buffer | null;
  /** null is a tombstone (a deleted state entry in a compacted changelog). */
  value: string | Buffer | null;
  headers?: OutgoingHeaders;
}

export interface TopicRequest {
  topic: string;
  partitions: number;
  /** Broker configs, e.g. `cleanup.policy: compact` for a changelog. */
  config?: Record<string, string>;
}

/** An offset committed for a consumer group, with the metadata stored beside it. */
export interface CommittedOffset {
  offset: number;
  metadata: string | null;
}

export interface FetchOptions {
  topics: readonly string[];
  /** The partitions this pod owns; the same numbers are read from every topic that has them. */
  partitions: readonly number[];
  /** Where each topic's partitions start: `start(topic, partition)` is the next offset to read. */
  start: (topic: string, partition: number) => number;
  /** Reads only committed transactions (default true): outputs of aborted ones and zombies are never seen. */
  readCommitted?: boolean;
  /** Called for each batch in turn; the next batch is not handed over before the promise settles. */
  onBatch: (batch: FetchedBatch) => Promise<void>;
  /** Position reports for batches that carried only transaction markers or aborted records (so a reader knows it advanced). */
  onPosition?: (topic: string, partition: number, next: number) => void;
  /** The fetch failed for good; the engine fails the task set rather than read from a wrong position. */
  onError: (error: Error) => void;
  /** Caps the bytes fetched per partition per request (smaller batches, more commits). */
  maxBytesPerPartition?: number;
}

/** A running fetch; `stop` ends it. */
export interface Fetch {
  stop(): Promise<void>;
}

/** One transaction: everything sent in it and the offsets becomes visible to read_committed readers together, or not at all. */
export interface TransactionContents {
  messages: readonly OutgoingMessage[];
  /** The consumer group whose offsets the transaction commits. */
  groupId: string;
  offsets: readonly { topic: string; partition: number; offset: number; metadata: string }[];
}

export interface TransactionalProducer {
  readonly transactionalId: string;
  /** Sends the messages and commits the offsets in one transaction; rejects when it was aborted (fenced, timed out). */
  commit(contents: TransactionContents): Promise<void>;
  close(): Promise<void>;
}

export interface PlainProducer {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaClient {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(topics: readonly TopicRequest[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** Per partition, the offset after the last message (the high watermark). */
  endOffsets(topic: string): Promise<Map<number, number>>;
  /** The offsets a group committed for a topic; partitions without one are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, CommittedOffset>>;
  /** Deletes each partition's records before the offset given for it (Kafka's DeleteRecords): a topic the job alone reads, once read. */
  deleteRecordsBefore(topic: string, offsets: ReadonlyMap<number, number>): Promise<void>;
  fetch(options: FetchOptions): Promise<Fetch>;
  /**
   * A producer whose transactional id is stable per job and pod: opening it fences a previous
   * instance (a zombie) with the same id and aborts its open transaction.
   */
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  producer(): Promise<PlainProducer>;
  /**
   * The largest record batch the broker takes for the topic, in bytes: its `max.message.bytes`, and no more than
   * the broker's `message.max.bytes`. Read from the broker once per topic; produce requests are split below it.
   */
  maxMessageBytes(topic: string): Promise<number>;
  close(): Promise<void>;
}
