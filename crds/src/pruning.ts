// Fields the schema does not declare: the API server prunes them, and refuses them under strict field validation (kubectl's default).
import { childPath, fieldError, type FieldError } from './field-error.js';
import type { JSONSchemaProps } from './manifests.js';
import { isObject, preservesUnknownFields, propertySchema } from './structural.js';

/** The object's root fields that ObjectMeta and TypeMeta govern, not the schema. */
const rootFieldsOutsideSchema = new Set(['apiVersion', 'kind', 'metadata']);

function prune(value: unknown, schema: JSONSchemaProps | undefined, path: string, errors: FieldError[]): void {
  if (schema === undefined || preservesUnknownFields(schema)) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => prune(item, schema.items, childPath(path, index), errors));
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (path === '' && rootFieldsOutsideSchema.has(key)) continue;
      const childSchema = propertySchema(schema, key);
      if (childSchema === undefined) {
        errors.push(fieldError.unknownField(childPath(path, key)));
        delete value[key];
      } else {
        prune(value[key], childSchema, childPath(path, key), errors);
      }
    }
  }
}

/** Removes undeclared fields from `value` in place and reports each as strict field validation does. */
export function pruneUnknownFields(value: unknown, schema: JSONSchemaProps): FieldError[] {
  const errors: FieldError[] = [];
  prune(value, schema, '', errors);
  return errors;
}
