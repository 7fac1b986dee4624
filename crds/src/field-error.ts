// Field errors worded as the API server words them (k8s.io/apimachinery's field.Error), so both read the same.

/** One problem: the field's path (`spec.pipeline[2].window.size`) and what is wrong, after the API server's wording. */
export interface FieldError {
  path: string;
  message: string;
}

/** `path: message`, the way kubectl prints a field error. */
export function formatFieldError(error: FieldError): string {
  return `${error.path}: ${error.message}`;
}

/** Go's rendering of a bad value: numbers and booleans bare, strings quoted, anything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value) ?? 'null';
}

/** A path segment after `path`: `.key` for a property, `[i]` for a list index. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The API server leaves the value out of errors about objects and lists. */
export const omitted = Symbol('value omitted');

function body(type: string, value: unknown, detail: string): string {
  const head = value === omitted ? type : `${type}: ${formatValue(value)}`;
  return detail === '' ? head : `${head}: ${detail}`;
}

export const fieldError = {
  invalid: (path: string, value: unknown, detail: string): FieldError => ({ path, message: body('Invalid value', value, detail) }),
  required: (path: string, detail = ''): FieldError => ({ path, message: detail === '' ? 'Required value' : `Required value: ${detail}` }),
  forbidden: (path: string, detail: string): FieldError => ({ path, message: `Forbidden: ${detail}` }),
  duplicate: (path: string, value: unknown): FieldError => ({ path, message: body('Duplicate value', value, '') }),
  notSupported: (path: string, value: unknown, supported: readonly unknown[]): FieldError => ({
    path,
    message: body(
      'Unsupported value',
      value,
      `supported values: ${supported.map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`,
    ),
  }),
  tooLong: (path: string, max: number): FieldError => ({ path, message: `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` }),
  tooMany: (path: string, actual: number, max: number): FieldError => ({
    path,
    message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
  }),
  unknownField: (path: string): FieldError => ({ path, message: `unknown field ${JSON.stringify(path)}` }),
};
