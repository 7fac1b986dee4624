// Printing for people and programs: -o table (aligned columns, label: value lines) or the object as JSON or YAML.
import { stringify } from 'yaml';
import type { OutputFormat } from './options.js';

/** `value` as JSON or YAML, ending in a newline. */
export function formatObject(value: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/** Rows under a header, each column as wide as its widest cell, two spaces apart, as kubectl get prints. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map((cells) => `${line(cells)}\n`).join('');
}

/** `Label:  value` lines with the values aligned; a value with several lines continues under its first. */
export function formatFields(fields: [label: string, value: string][]): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 3;
  return fields
    .map(([label, value]) => {
      const [first, ...rest] = value.split('\n');
      return [`${`${label}:`.padEnd(width)}${first}`, ...rest.map((more) => `${' '.repeat(width)}${more}`)].join('\n');
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** How long ago `time` was, as kubectl shows ages: 45s, 12m, 3h, 5d. */
export function age(time: string | Date | undefined, now: Date = new Date()): string {
  if (time === undefined) return '-';
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(time).getTime()) / 1000));
  if (Number.isNaN(seconds)) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** A time with its age: `2026-11-27T16:20:01Z (3m ago)`. */
export function timeAndAge(time: string | Date | undefined, now: Date = new Date()): string {
  if (time === undefined) return '-';
  const text = time instanceof Date ? time.toISOString() : time;
  return `${text} (${age(time, now)} ago)`;
}
