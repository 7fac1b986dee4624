// Topic ids from Kafka's Metadata API v12 over a plain socket: kafkajs speaks Metadata only up to v6, which has no ids.
import { explainKafkaError, type KafkaConnectionOptions } from '@sluice/crds';
import { BrokerSaslError, brokerRequest } from './broker-socket.js';

const metadataApiKey = 3;
const metadataVersion = 12;

/** Reads the ids of topics by name; a topic Kafka does not know is missing from the map. */
export interface TopicIds {
  idsOf(names: string[]): Promise<Map<string, string>>;
}

/** Asks the first reachable bootstrap broker, over TLS and signed in with SASL when the Kafka Secret says so. */
export class KafkaTopicIds implements TopicIds {
  constructor(
    private readonly brokers: string[],
    private readonly connection: KafkaConnectionOptions = {},
    private readonly timeoutMs = 10_000,
  ) {}

  async idsOf(names: string[]): Promise<Map<string, string>> {
    let lastError: unknown;
    for (const broker of this.brokers) {
      try {
        return parseMetadata(await brokerRequest(broker, this.connection, this.timeoutMs, (correlationId) => encodeMetadataRequest(correlationId, names)));
      } catch (error) {
        // A refused sign-in is the same on every broker: said at once, with the user and listener.
        if (error instanceof BrokerSaslError) throw explainKafkaError(error, { brokers: [broker], connection: this.connection });
        lastError = error;
      }
    }
    throw new Error(`no broker of ${this.brokers.join(',')} answered a Metadata request: ${String(lastError)}`);
  }
}

/** Request header v2 (api key, version, correlation id, client id, no tags) and the v12 body asking for the named topics. */
export function encodeMetadataRequest(correlationId: number, names: string[]): Buffer {
  const clientId = Buffer.from('sluice-controller');
  const parts: Buffer[] = [int16(metadataApiKey), int16(metadataVersion), int32(correlationId), int16(clientId.length), clientId, uvarint(0)];
  parts.push(uvarint(names.length + 1));
  for (const name of names) {
    const bytes = Buffer.from(name);
    // Each topic by name: a zero id, the compact name, no tags.
    parts.push(Buffer.alloc(16), uvarint(bytes.length + 1), bytes, uvarint(0));
  }
  // allow_auto_topic_creation false, include_topic_authorized_operations false, no tags.
  parts.push(Buffer.from([0, 0]), uvarint(0));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length), body]);
}

/** The topic ids of a Metadata v12 response (after its size prefix), by topic name. */
export function parseMetadata(response: Buffer): Map<string, string> {
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
  const ids = new Map<string, string>();
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
    reader.int32(); // authorized operations
    reader.tags();
    if (errorCode === 0 && name !== null) ids.set(name, id);
  });
  return ids;
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
