// Kafka messages ↔ engine records: JSON decoding of input, JSON encoding of results, and dead letters with their reason in headers.
import type { Rejected, SourceRecord } from '../connectors/source.js';
import type { FetchedMessage, OutgoingMessage } from './client.js';

/** Headers of a dead-letter message: why it is there and where its input came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'sluice.error.reason',
  topic: 'sluice.error.source.topic',
  partition: 'sluice.error.source.partition',
  offset: 'sluice.error.source.offset',
} as const;

/** A message with this header (any value) ends its partition of a bounded Kafka input; its own value is not read. */
export const END_OF_INPUT_HEADER = 'sluice.end-of-input';

export type Decoded = { ok: true; record: SourceRecord } | { ok: false; rejected: Rejected };

/** One message as a JSON object, or why it is not one (the job goes on; the message goes to the dead-letter topic). */
export function decodeJson(message: FetchedMessage): Decoded {
  const { partition, offset } = message;
  const raw = message.value === null ? '' : message.value.toString('utf8');
  const reject = (why: string): Decoded => ({ ok: false, rejected: { partition, offset, raw, reason: `${message.topic} partition ${partition} offset ${offset}: ${why}` } });
  if (message.value === null) return reject('the message has no value (a tombstone); a JSON object was expected');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return reject(`the value is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(`the value is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object`);
  }
  return { ok: true, record: { value: value as Record<string, unknown>, partition, offset } };
}

/** Where a dead letter's input came from: a source message, or none (a result a sink could not write). */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  offset?: number;
}

/** A dead-letter message: the input as it was read (or the record as JSON), the reason and the origin in headers. */
export function deadLetterMessage(topic: string, reason: string, value: string, origin: DeadLetterOrigin): OutgoingMessage {
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.reason]: reason,
    [DEAD_LETTER_HEADERS.topic]: origin.topic,
    [DEAD_LETTER_HEADERS.partition]: String(origin.partition),
  };
  if (origin.offset !== undefined) headers[DEAD_LETTER_HEADERS.offset] = String(origin.offset);
  return { topic, key: null, value, headers };
}
