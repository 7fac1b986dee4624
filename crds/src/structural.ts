// Walking a structural schema beside a value: which schema governs a property or an item, and what is a plain object.
import type { JSONSchemaProps } from './manifests.js';

export type JSONObject = Record<string, unknown>;

export function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema of property `key` of an object governed by `schema`, or undefined when the schema does not declare it. */
export function propertySchema(schema: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  if (schema === undefined) return undefined;
  const declared = schema.properties?.[key];
  if (declared !== undefined) return declared;
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

export function preservesUnknownFields(schema: JSONSchemaProps | undefined): boolean {
  return schema?.['x-kubernetes-preserve-unknown-fields'] === true;
}
