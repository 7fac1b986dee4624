// How many bytes a message takes in a Kafka record batch: the unit the broker's max.message.bytes limits.
import type { OutgoingMessage } from './client.js';

/**
 * A v2 record batch's own bytes (61, with the log's offset and length), plus room for the varints of
 * this estimate: a batch of messages whose `messageBytes` add up to `limit − BATCH_OVERHEAD_BYTES` fits.
 */
export const BATCH_OVERHEAD_BYTES = 61 + 67;

/** A record's own fields at their largest varint sizes: length, attributes, timestamp and offset deltas, key and value lengths, header count. */
const RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;

/** A header's name and value lengths, as varints at their largest. */
const HEADER_OVERHEAD_BYTES = 10;

/** Kafka's default max.message.bytes (1 MiB and the log entry's 12 bytes): the limit where the broker does not say. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

function bytesOf(content: string | Buffer | null | undefined): number {
  if (content === null || content === undefined) return 0;
  return typeof content === 'string' ? Buffer.byteLength(content) : content.length;
}

/** An upper bound of the bytes the message takes in a record batch (no compression). */
export function messageBytes(message: Pick<OutgoingMessage, 'key' | 'value' | 'headers'>): number {
  let bytes = RECORD_OVERHEAD_BYTES + bytesOf(message.key) + bytesOf(message.value);
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name]!;
    const values = Array.isArray(value) ? (value as readonly (string | Buffer)[]) : [value as string | Buffer];
    for (const one of values) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + bytesOf(one);
  }
  return bytes;
}

/** Whether the message fits a record batch of `limit` bytes on its own. */
export function fitsAlone(message: Pick<OutgoingMessage, 'key' | 'value' | 'headers'>, limit: number): boolean {
  const room = limit - BATCH_OVERHEAD_BYTES;
  // Most messages are far below the limit: a character takes at most 3 bytes, so lengths settle it without encoding.
  if (message.headers === undefined && RECORD_OVERHEAD_BYTES + 3 * ((message.key?.length ?? 0) + (message.value?.length ?? 0)) <= room) return true;
  return messageBytes(message) <= room;
}
