// Kafka's Metadata API v12 over a socket of our own (broker-socket.ts): topic ids and the operations the client's user may do on each topic, which kafkajs (Metadata up to v6) cannot read.
import { brokerRequest, BrokerSaslError } from './broker-socket.js';
import type { KafkaConnectionOptions } from './index.js';

const metadataApiKey = 3;
const metadataVersion = 12;

/** Kafka's ACL operation codes: bit n of a topic's authorized operations is operation n. */
export const ACL_OPERATION_CODES = { READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11 } as const;

export interface TopicMetadata {
  /** The topic id, as Kafka prints it (URL-safe base64). */
  id: string;
  /** A bit per ACL operation the user may do on the topic, when asked for; else Kafka's "not asked" value. */
  authorizedOperations: number;
}

/**
 * The named topics' metadata from the first bootstrap broker that answers (over TLS and signed in with SASL when
 * `connection` says so). A topic the user may not see (or that does not exist) is absent. A refused sign-in is thrown
 * at once: it would be the same on every broker.
 */
export async function readTopicMetadata(
  brokers: readonly string[],
  connection: KafkaConnectionOptions,
  names: readonly string[],
  options: { authorizedOperations?: boolean; timeoutMs?: number } = {},
): Promise<Map<string, TopicMetadata>> {
  let lastError: unknown;
  for (const broker of brokers) {
    try {
      return parseMetadata(
        await brokerRequest(broker, connection, options.timeoutMs ?? 10_000, (correlationId) =>
          encodeMetadataRequest(correlationId, names, options.authorizedOperations),
        ),
      );
    } catch (error) {
      if (error instanceof BrokerSaslError) throw error;
      lastError = error;
    }
  }
  throw new Error(`no broker of ${brokers.join(',')} answered a Metadata request: ${String(lastError)}`);
}

/** Request header v2 (api key, version, correlation id, client id, no tags) and the v12 body asking for the named topics. */
export function encodeMetadataRequest(correlationId: number, names: readonly string[], authorizedOperations = false): Buffer {
  const clientId = Buffer.from('sluice');
  const parts: Buffer[] = [int16(metadataApiKey), int16(metadataVersion), int32(correlationId), int16(clientId.length), clientId, uvarint(0)];
  parts.push(uvarint(names.length + 1));
  for (const name of names) {
    const bytes = Buffer.from(name);
    // Each topic by name: a zero id, the compact name, no tags.
    parts.push(Buffer.alloc(16), uvarint(bytes.length + 1), bytes, uvarint(0));
  }
  // allow_auto_topic_creation false, include_topic_authorized_operations as asked, no tags.
  parts.push(Buffer.from([0, authorizedOperations ? 1 : 0]), uvarint(0));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length), body]);
}

/** The topics a Metadata v12 response (after its size prefix) describes, by name; a topic with an error is absent. */
export function parseMetadata(response: Buffer): Map<string, TopicMetadata> {
  const reader = new Reader(response);
  reader.int32(); // correlation id
  reader.tags();
  reader.int32(); // throttle time
  reader.array(() => {
    reader.int32();
    reader.compactString();
    reader.int32();
    reader.compactString();
    reader.tags();
  });
  reader.compactString(); // cluster id
  reader.int32(); // controller id
  const topics = new Map<string, TopicMetadata>();
  reader.array(() => {
    const errorCode = reader.int16();
    const name = reader.compactString();
    const id = reader.uuid();
    reader.skip(1); // is_internal
    reader.array(() => {
      reader.skip(2 + 4 + 4 + 4);
      for (let list = 0; list < 3; list++) reader.array(() => reader.skip(4));
      reader.tags();
    });
    const authorizedOperations = reader.int32();
    reader.tags();
    if (errorCode === 0 && name !== null) topics.set(name, { id, authorizedOperations });
  });
  return topics;
}

class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  skip(bytes: number): void {
    this.offset += bytes;
  }

  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer.readUInt8(this.offset++);
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  }

  compactString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** Kafka prints a Uuid as URL-safe base64 without padding. */
  uuid(): string {
    const value = this.buffer.subarray(this.offset, this.offset + 16).toString('base64url');
    this.offset += 16;
    return value;
  }

  array(each: () => void): void {
    const length = this.uvarint() - 1;
    for (let index = 0; index < length; index++) each();
  }

  tags(): void {
    const count = this.uvarint();
    for (let tag = 0; tag < count; tag++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
