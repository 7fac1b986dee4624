// The uniqueness that x-kubernetes-list-type promises: whole items of a set, key fields of a map (apiextensions' listtype).
import { childPath, fieldError, type FieldError } from './field-error.js';
import type { JSONSchemaProps } from './manifests.js';
import { isObject, propertySchema } from './structural.js';

/** Indexes of the second appearance of each repeated identity, as the API server reports them. */
function secondAppearances(identities: string[]): number[] {
  const seen = new Map<string, number>();
  const repeats: number[] = [];
  identities.forEach((identity, index) => {
    const times = seen.get(identity) ?? 0;
    if (times === 1) repeats.push(index);
    seen.set(identity, times + 1);
  });
  return repeats;
}

function checkList(list: unknown[], schema: JSONSchemaProps, path: string, errors: FieldError[]): void {
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') {
    for (const index of secondAppearances(list.map((item) => JSON.stringify(item)))) {
      errors.push(fieldError.duplicate(childPath(path, index), list[index]));
    }
  } else if (listType === 'map') {
    const keyFields = schema['x-kubernetes-list-map-keys'] ?? [];
    const keys = list.map((item) =>
      Object.fromEntries(keyFields.filter((field) => isObject(item) && field in item).map((field) => [field, (item as Record<string, unknown>)[field]])),
    );
    for (const index of secondAppearances(keys.map((key) => JSON.stringify(key)))) {
      errors.push(fieldError.duplicate(childPath(path, index), keys[index]));
    }
  }
}

function walk(value: unknown, schema: JSONSchemaProps | undefined, path: string, errors: FieldError[]): void {
  if (schema === undefined) return;
  if (Array.isArray(value)) {
    checkList(value, schema, path, errors);
    value.forEach((item, index) => walk(item, schema.items, childPath(path, index), errors));
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) walk(child, propertySchema(schema, key), childPath(path, key), errors);
  }
}

/** Every repeated item of a list-type set and every repeated key of a list-type map in `value`. */
export function checkListTypes(value: unknown, schema: JSONSchemaProps): FieldError[] {
  const errors: FieldError[] = [];
  walk(value, schema, '', errors);
  return errors;
}
