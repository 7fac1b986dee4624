// A table's messages from a JSON-lines file: each line is what a Kafka message would carry, {"key": ..., "value": {...} | null}.
import { showValue } from '../error-message.js';
import type { SourceRecord } from '../connectors/source.js';
import type { TableChange } from './table-join.js';

/** A table line and its change, or why the line is not one (its dead-letter reason). */
export function tableChangeOfLine(record: SourceRecord, where: string): TableChange | { reason: string } {
  const line = record.value;
  const { key, value } = line;
  const shape = 'a table line is {"key": "C1", "value": {...}}, or {"key": "C1", "value": null} to delete C1';
  if (!('key' in line) || !('value' in line))
    return { reason: `${where} line ${record.offset + 1}: has no ${'key' in line ? 'value' : 'key'} field; ${shape}` };
  if (value !== null && (typeof value !== 'object' || Array.isArray(value)))
    return { reason: `${where} line ${record.offset + 1}: value is ${showValue(value)}, not an object or null; ${shape}` };
  const keyText = typeof key === 'string' ? key : typeof key === 'number' || typeof key === 'boolean' ? String(key) : key === null ? null : undefined;
  if (keyText === undefined) return { reason: `${where} line ${record.offset + 1}: key is ${showValue(key)}, not a string, number or null; ${shape}` };
  return { partition: record.partition, offset: record.offset, key: keyText, value: value as Record<string, unknown> | null };
}
