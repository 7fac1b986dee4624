// Kafka messages ↔ engine records: decoding input in the source's format (serde/), and dead letters — the input as it arrived, with the reason and origin in headers.
import { boundedReason } from '../connectors/sink.js';
import type { RawHeaders, Rejected, SourceRecord } from '../connectors/source.js';
import { JsonDeserializer } from '../serde/json.js';
import type { DecodeResult, Deserializer, FormatName } from '../serde/serde.js';
import type { FetchedMessage, OutgoingHeaders, OutgoingMessage } from './client.js';
import { BATCH_OVERHEAD_BYTES, messageBytes } from './message-size.js';

/** Headers of a dead-letter message: why it is there and where its input came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'sluice.error.reason',
  topic: 'sluice.error.source.topic',
  partition: 'sluice.error.source.partition',
  offset: 'sluice.error.source.offset',
  /** The source message's own timestamp, epoch ms. */
  timestamp: 'sluice.error.source.timestamp',
  /** Present when the dead letter would not fit the topic whole: what was cut ("value", or "key,value"). */
  truncated: 'sluice.error.truncated',
  /** With `truncated`: the original key and value sizes in bytes. */
  keyBytes: 'sluice.error.original.key.bytes',
  valueBytes: 'sluice.error.original.value.bytes',
} as const;

/** Every dead-letter header starts so; an input's own headers of that name are replaced, never passed on as ours. */
const DEAD_LETTER_PREFIX = 'sluice.error.';

/** A message with this header (any value) ends its partition of a bounded Kafka input; its own value is not read. */
export const END_OF_INPUT_HEADER = 'sluice.end-of-input';

export type Decoded = { ok: true; record: SourceRecord } | { ok: false; rejected: Rejected };

const EMPTY = Buffer.alloc(0);

const JSON_VALUES = new JsonDeserializer();

/** What a tombstone's reason says was expected instead, per format. */
const EXPECTED: Record<FormatName, string> = { json: 'a JSON object', avro: 'an Avro record', 'json-schema': 'a JSON object behind a JSON Schema id' };

/** One message as a JSON object, or why it is not one (the job goes on; the message goes to the dead-letter topic as it arrived). */
export function decodeJson(message: FetchedMessage): Decoded {
  return decodeMessage(message, JSON_VALUES);
}

/**
 * One message as a record in the source's format, or why it is not one: the reason names the message and goes with it,
 * as it arrived, to the dead-letter topic; the job goes on. The deserializer was prepared for the message's batch.
 */
export function decodeMessage(message: FetchedMessage, deserializer: Deserializer): Decoded {
  const { partition, offset, value } = message;
  const decoded: DecodeResult =
    value === null
      ? { ok: false, reason: `the message has no value (a tombstone); ${EXPECTED[deserializer.format]} was expected` }
      : deserializer.decode(value);
  if (decoded.ok) return { ok: true, record: { value: decoded.value, partition, offset, arrived: message } };
  return {
    ok: false,
    rejected: {
      partition,
      offset,
      raw: value ?? EMPTY,
      arrived: message,
      reason: boundedReason(`${message.topic} partition ${partition} offset ${offset}: ${decoded.reason}`),
    },
  };
}

/** Where a dead letter's input came from: the source message that was read, or that was being processed when a result failed. */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  offset?: number;
  timestamp?: number;
}

/** What a dead letter carries: an input message's bytes as they arrived, or a result as JSON (no key, no headers). */
export interface DeadLetterContent {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RawHeaders;
}

/**
 * A dead-letter message: the content as it was (an input's key, value and headers byte for byte), the bounded
 * reason and the origin in `sluice.error.*` headers. When it would not fit the topic's `limit` (bytes per record
 * batch) whole, the value (and, if need be, the key) is cut to fit and headers say so with the original sizes.
 */
export function deadLetterMessage(topic: string, reason: string, content: DeadLetterContent, origin: DeadLetterOrigin, limit?: number): OutgoingMessage {
  const headers: OutgoingHeaders = {};
  for (const name in content.headers) if (!name.startsWith(DEAD_LETTER_PREFIX)) headers[name] = content.headers[name]!;
  headers[DEAD_LETTER_HEADERS.reason] = boundedReason(reason);
  headers[DEAD_LETTER_HEADERS.topic] = origin.topic;
  headers[DEAD_LETTER_HEADERS.partition] = String(origin.partition);
  if (origin.offset !== undefined) headers[DEAD_LETTER_HEADERS.offset] = String(origin.offset);
  if (origin.timestamp !== undefined) headers[DEAD_LETTER_HEADERS.timestamp] = String(origin.timestamp);
  const message: OutgoingMessage = { topic, key: content.key, value: content.value, headers };
  return limit === undefined ? message : fitted(message, limit);
}

/** The dead letter cut to fit a record batch of `limit` bytes on its own: the value first, then the key. */
function fitted(message: OutgoingMessage, limit: number): OutgoingMessage {
  const room = limit - BATCH_OVERHEAD_BYTES;
  if (messageBytes(message) <= room) return message;
  const key = toBuffer(message.key);
  const value = toBuffer(message.value);
  const headers: OutgoingHeaders = {
    ...message.headers,
    [DEAD_LETTER_HEADERS.keyBytes]: String(key?.length ?? 0),
    [DEAD_LETTER_HEADERS.valueBytes]: String(value?.length ?? 0),
  };
  headers[DEAD_LETTER_HEADERS.truncated] = 'key,value';
  // What the message takes without key and value: the room left is theirs.
  const free = room - messageBytes({ key: null, value: null, headers });
  const keyBytes = Math.min(key?.length ?? 0, Math.max(0, free));
  if (keyBytes === (key?.length ?? 0)) headers[DEAD_LETTER_HEADERS.truncated] = 'value';
  const valueBytes = Math.max(0, free - keyBytes);
  return { ...message, key: key === null ? null : key.subarray(0, keyBytes), value: value === null ? null : value.subarray(0, valueBytes), headers };
}

function toBuffer(content: Buffer | string | null): Buffer | null {
  return typeof content === 'string' ? Buffer.from(content) : content;
}
