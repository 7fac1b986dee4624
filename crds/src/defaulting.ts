// The API server's defaulting of a custom resource: drop nulls the schema does not allow, then fill in `default:` values.
import type { JSONSchemaProps } from './manifests.js';
import { isObject, propertySchema } from './structural.js';

function nonNullable(schema: JSONSchemaProps | undefined): schema is JSONSchemaProps {
  return schema !== undefined && schema.nullable !== true;
}

/** Removes nulls of non-nullable fields without a default (apiextensions' PruneNonNullableNullsWithoutDefaults). */
function pruneNulls(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) pruneNulls(item, schema?.items);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childSchema = propertySchema(schema, key);
      if (child === null && nonNullable(childSchema) && childSchema.default === undefined) delete value[key];
      else pruneNulls(child, childSchema);
    }
  }
}

/** Fills in defaults in place, outside in, so a defaulted object gets its own fields' defaults too (apiextensions' Default). */
function fill(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (schema === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (item === null && nonNullable(schema.items) && schema.items.default !== undefined) value[index] = structuredClone(schema.items.default);
      fill(value[index], schema.items);
    });
  } else if (isObject(value)) {
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      if (property.default === undefined) continue;
      if (!(key in value) || (value[key] === null && nonNullable(property))) value[key] = structuredClone(property.default);
    }
    for (const key of Object.keys(value)) fill(value[key], propertySchema(schema, key));
  }
}

/** Defaults `value` in place as the API server does before it validates. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps): void {
  pruneNulls(value, schema);
  fill(value, schema);
}
