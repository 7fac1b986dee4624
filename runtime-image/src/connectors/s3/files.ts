// The bytes of the lake: a staged chunk (a JSON line per result: its event time and value) and a final file, Parquet or JSON lines.
import { parquetWriteBuffer, type BasicType, type ColumnSource } from 'hyparquet-writer';

export type LakeFormat = 'parquet' | 'jsonl';

/** A result as a chunk keeps it. */
export interface LakeRow {
  eventTime: number;
  value: Record<string, unknown>;
}

/** One chunk line; throws when the value has no JSON form (a BigInt, a cycle). */
export function chunkLine(row: LakeRow): string {
  return JSON.stringify([row.eventTime, row.value]);
}

export function parseChunk(body: string): LakeRow[] {
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [eventTime, value] = JSON.parse(line) as [number, Record<string, unknown>];
      return { eventTime, value };
    });
}

export const EXTENSIONS: Record<LakeFormat, string> = { parquet: 'parquet', jsonl: 'jsonl' };

/** A final file of the results, in order. */
export function encodeFinal(format: LakeFormat, values: readonly Record<string, unknown>[]): Uint8Array {
  if (format === 'jsonl') return Buffer.from(values.map((value) => `${JSON.stringify(value)}\n`).join(''));
  return new Uint8Array(parquetWriteBuffer({ columnData: parquetColumns(values) }));
}

/**
 * A column per field, in the order fields are first seen; a missing field is null. Every number is a DOUBLE (a count
 * that is whole in one file and not in the next keeps one type across the lake); a column of mixed kinds, or of
 * objects and arrays, is JSON.
 */
export function parquetColumns(values: readonly Record<string, unknown>[]): ColumnSource[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    for (const name of Object.keys(value)) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  return names.map((name) => {
    const data = values.map((value) => value[name] ?? null);
    const type = columnType(data);
    return { name, type, nullable: true, data };
  });
}

const KINDS: Record<string, BasicType> = { number: 'DOUBLE', string: 'STRING', boolean: 'BOOLEAN' };

function columnType(data: readonly unknown[]): BasicType {
  let type: BasicType | undefined;
  for (const item of data) {
    if (item === null) continue;
    const kind = KINDS[typeof item] ?? 'JSON';
    if (type !== undefined && type !== kind) return 'JSON';
    type = kind;
  }
  return type ?? 'STRING';
}
