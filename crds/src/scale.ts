// The API server's check of a scalable resource's replica count (StreamJob's spec.parallelism), in its own words.
import { fieldError, type FieldError } from './field-error.js';
import { isObject } from './structural.js';

const maxInt32 = 2 ** 31 - 1;

/** Go's %T of a value decoded from JSON. */
function goType(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'float64';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's %v of such a value, near enough: scalars bare, lists and objects as JSON. */
function goValue(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Errors for the replica count at `specReplicasPath` (such as `.spec.parallelism`) of `object`, as apiextensions reports them. */
export function checkScale(object: Record<string, unknown>, specReplicasPath: string): FieldError[] {
  const fields = specReplicasPath.replace(/^\./, '').split('.');
  let value: unknown = object;
  for (const field of fields) {
    if (!isObject(value) || !(field in value)) return [];
    value = value[field];
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const detail = `.${fields.join('.')} accessor error: ${goValue(value)} is of the type ${goType(value)}, expected int64`;
    return [fieldError.invalid(specReplicasPath, 0, detail)];
  }
  if (value < 0) return [fieldError.invalid(specReplicasPath, value, 'should be a non-negative integer')];
  if (value > maxInt32) return [fieldError.invalid(specReplicasPath, value, `should be less than or equal to ${maxInt32}`)];
  return [];
}
