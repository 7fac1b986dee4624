// How thrown errors and offending values appear in messages (dead-letter reasons, wrapped errors).
export { messageOf } from '@sluice/crds/errors';

/** A value as a message quotes it: its JSON, or its type where JSON has none. */
export function showValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
