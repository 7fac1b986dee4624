// The fault corpus (corpus/records.jsonl): bad and odd records as data, with recipes for the big ones so the file stays small.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Bytes as written in the corpus: text, base64, or a recipe that builds them. */
type BytesSpec =
  | { text: string }
  | { base64: string }
  /** `prefix` + `char` × `times` + `suffix`: a big value without a big file. */
  | { fill: { prefix: string; char: string; times: number; suffix: string } }
  /** `prefix` + `open` × `depth` + `inner` + `close` × `depth` + `suffix`: deep nesting. */
  | { nested: { prefix: string; open: string; close: string; depth: number; inner: string; suffix: string } }
  /** `prefix` + `,"f<i>":<i>` for i < count + `}`: an object with many fields. */
  | { fields: { prefix: string; count: number } };

/** What the job must do with the record: dead-letter it, process it (a result or the late output), or either — but never stop. */
export type Expectation = 'dead-letter' | 'processed' | 'either';

interface CorpusLine {
  name: string;
  why: string;
  key?: BytesSpec;
  value: BytesSpec | null;
  headers?: Record<string, BytesSpec>;
  expect: Expectation;
}

export interface FaultRecord {
  name: string;
  /** Which reproduction of the issue it stands for. */
  why: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  expect: Expectation;
}

function bytesOf(spec: BytesSpec): Buffer {
  if ('text' in spec) return Buffer.from(spec.text, 'utf8');
  if ('base64' in spec) return Buffer.from(spec.base64, 'base64');
  if ('fill' in spec) return Buffer.from(spec.fill.prefix + spec.fill.char.repeat(spec.fill.times) + spec.fill.suffix, 'utf8');
  if ('nested' in spec) {
    const { prefix, open, close, depth, inner, suffix } = spec.nested;
    return Buffer.from(prefix + open.repeat(depth) + inner + close.repeat(depth) + suffix, 'utf8');
  }
  const parts = [spec.fields.prefix];
  for (let i = 0; i < spec.fields.count; i++) parts.push(`,"f${i}":${i}`);
  parts.push('}');
  return Buffer.from(parts.join(''), 'utf8');
}

const corpusFile = fileURLToPath(new URL('./corpus/records.jsonl', import.meta.url));

/** Every record of the corpus, built. */
export function faultCorpus(): FaultRecord[] {
  return readFileSync(corpusFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const entry = JSON.parse(line) as CorpusLine;
      return {
        name: entry.name,
        why: entry.why,
        key: entry.key === undefined ? null : bytesOf(entry.key),
        value: entry.value === null ? null : bytesOf(entry.value),
        headers: Object.fromEntries(Object.entries(entry.headers ?? {}).map(([name, spec]) => [name, bytesOf(spec)])),
        expect: entry.expect,
      };
    });
}

/** True when the record can be a line of a JSON-lines file: valid UTF-8 text without a line break (a blank line is no record there). */
export function fitsOnALine(record: FaultRecord): boolean {
  if (record.value === null) return false;
  const text = record.value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(record.value) && !/[\r\n]/.test(text) && text.trim() !== '';
}
