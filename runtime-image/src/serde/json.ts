// Plain JSON: each value is one JSON object as UTF-8 text, no registry.
import { messageOf } from '../error-message.js';
import { MAX_NESTING_DEPTH, nestedDeeperThan } from '../connectors/source.js';
import type { DecodeResult, Deserializer, EncodeResult, Serializer } from './serde.js';

/** JSON text → an object, or why it is not one; shared by plain JSON and the JSON Schema body. */
export function parseJsonObject(text: Buffer): DecodeResult {
  if (nestedDeeperThan(text))
    return { ok: false, reason: `the value nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep; Sluice reads at most ${MAX_NESTING_DEPTH}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `the value is not JSON (${messageOf(error)})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: `the value is ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}, not a JSON object` };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

export class JsonDeserializer implements Deserializer {
  readonly format = 'json';

  prepare(): undefined {
    return undefined;
  }

  decode(value: Buffer): DecodeResult {
    return parseJsonObject(value);
  }
}

export class JsonSerializer implements Serializer {
  readonly format = 'json';

  start(): Promise<void> {
    return Promise.resolve();
  }

  encode(record: Record<string, unknown>): EncodeResult {
    return { ok: true, value: JSON.stringify(record) };
  }
}
