// Key selectors for keyBy: one or more fields, or a function with a name; the names become the result's key fields.
import { SluiceError } from '@sluice/crds/errors';
import { showValue } from '../error-message.js';

export type KeyValue = string | number | boolean;

export interface KeySelector {
  /** The result fields the key fills, in order: `customer_id`. */
  readonly fields: readonly string[];
  /** The key of a record, one value per field; throws naming the field when one is missing or not a plain value. */
  values(value: Record<string, unknown>): KeyValue[];
}

/** Thrown for a record whose key cannot be read; the message becomes its dead letter's reason. */
export class KeyError extends SluiceError {
  override readonly code = 'SLUICE_E_KEY';
}

function checked(field: string, value: unknown): KeyValue {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  const shown = value === undefined ? 'missing' : `${showValue(value)}, not a string, number or boolean`;
  throw new KeyError(`key ${field} is ${shown}`);
}

export function keyByFields(fields: readonly string[]): KeySelector {
  if (fields.length === 0) throw new RangeError('keyBy needs at least one field');
  return { fields, values: (value) => fields.map((field) => checked(field, value[field])) };
}

/** A key computed from the record (a CEL expression, compiled), filling the result field `name`. */
export function keyByFunction<T>(read: (value: T) => unknown, name: string): KeySelector {
  return { fields: [name], values: (value) => [checked(name, read(value as T))] };
}
