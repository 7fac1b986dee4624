// The mask step's four methods (hmac, redact, truncate, tokenise) and the record rewrite that applies them to named, possibly nested, fields.
import { createHmac } from 'node:crypto';

export const MASK_METHODS = ['hmac', 'redact', 'truncate', 'tokenise'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

/** What a redacted field holds instead of its value. */
export const REDACTED = 'REDACTED';

/** One field to mask: a dotted path (`payment.card_number`) and how. */
export interface MaskField {
  field: string;
  with: MaskMethod;
  /** truncate: how many trailing characters are kept. */
  keep?: number;
  /** hmac: how the 32-byte digest is written. */
  encoding?: 'hex' | 'base64';
}

/** The methods that need the job's secret key: without it their output could be recomputed by anyone from a guess. */
export const KEYED_METHODS: readonly MaskMethod[] = ['hmac', 'tokenise'];

type Row = Record<string, unknown>;

/** The text a value is masked as: strings as they are, numbers by their digits, anything else by its JSON. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Each method's own label goes into the HMAC, so a field's hmac and its token never share a digest. */
function digest(key: Uint8Array, label: string, text: string, counter = 0): Buffer {
  return createHmac('sha256', key).update(`${label}\u0000${counter}\u0000`).update(text, 'utf8').digest();
}

/** Each character's replacement: a digit for a digit, a letter of the same case for a letter, the character itself otherwise. */
function tokenCharacter(character: string, byte: number): string {
  const code = character.charCodeAt(0);
  if (code >= 48 && code <= 57) return String.fromCharCode(48 + (byte % 10));
  if (code >= 97 && code <= 122) return String.fromCharCode(97 + (byte % 26));
  if (code >= 65 && code <= 90) return String.fromCharCode(65 + (byte % 26));
  return character;
}

/**
 * A token as long as the value, of the same shape: each digit becomes a digit, each letter a letter of the same case,
 * every other character (`-`, `@`, `.`, spaces) stays. The replacement characters come from HMAC-SHA256 of the whole
 * value, so equal values give equal tokens. It is not format-preserving encryption: there is no way back, and two values
 * may share a token (likelier the shorter they are: 4 digits have 10,000 tokens).
 */
export function tokenise(key: Uint8Array, text: string): string {
  const characters = [...text];
  const blocks = [digest(key, 'tokenise', text, 0)];
  // One 32-byte digest covers 32 characters; longer values take more, counter by counter.
  for (let counter = 1; counter * 32 < characters.length; counter += 1) blocks.push(digest(key, 'tokenise', text, counter));
  const stream = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
  let token = '';
  for (let index = 0; index < characters.length; index += 1) token += tokenCharacter(characters[index]!, stream[index]!);
  return token;
}

/** HMAC-SHA256 of the value's text under the key: 64 hex characters or 44 base64 ones, the same for the same value. */
export function hmac(key: Uint8Array, text: string, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac('sha256', key).update(text, 'utf8').digest(encoding);
}

/** The last `keep` characters (by code point, so an emoji is not cut in half). */
export function truncate(text: string, keep: number): string {
  return keep === 0 ? '' : [...text].slice(-keep).join('');
}

function maskValue(field: MaskField, value: unknown, key: Uint8Array | undefined): unknown {
  if (field.with === 'redact') return REDACTED;
  const text = textOf(value);
  if (field.with === 'truncate') return truncate(text, field.keep ?? 4);
  if (key === undefined) throw new Error(`no mask key: ${field.field} is masked with ${field.with}, which needs one`);
  return field.with === 'hmac' ? hmac(key, text, field.encoding) : tokenise(key, text);
}

/** Sets path[depth..] in `record` to its masked value, copying each object on the way; absent or null fields are left alone. */
function maskAt(record: Row, steps: readonly string[], depth: number, field: MaskField, key: Uint8Array | undefined): Row {
  const name = steps[depth]!;
  if (!Object.hasOwn(record, name)) return record;
  const value = record[name];
  if (depth === steps.length - 1) return value === null || value === undefined ? record : { ...record, [name]: maskValue(field, value, key) };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return record;
  return { ...record, [name]: maskAt(value as Row, steps, depth + 1, field, key) };
}

/**
 * The record rewrite of one mask step: a new record with each named field masked, the input untouched. A field that is
 * missing or null is left alone: there is nothing in it to hide. `key` is the job's mask key, needed by hmac and tokenise.
 */
export function masker(fields: readonly MaskField[], key: Uint8Array | undefined): (record: Row) => Row {
  const paths = fields.map((field) => ({ field, steps: field.field.split('.') }));
  return (record) => paths.reduce((masked, { field, steps }) => maskAt(masked, steps, 0, field, key), record);
}
