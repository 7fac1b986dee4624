// The OpenAPI v3 part of a CRD schema, checked with ajv, its errors worded as kube-openapi and the API server word them.
import { createRequire } from 'node:module';
import type * as ajvModule from 'ajv';
import type { Ajv, AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { childPath, fieldError, type FieldError } from './field-error.js';
import type { JSONSchemaProps } from './manifests.js';
import { isObject } from './structural.js';

/** The checks ajv can make as they are; the x-kubernetes-* extensions, defaults and descriptions are the API server's business. */
const copiedKeywords = ['enum', 'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'required'] as const;

/** Formats the API server checks in the values our schemas use them on; int32 and int64 only qualify a type. */
const checkedFormats = new Set(['date-time']);

/** A CRD schema as a JSON schema ajv understands: int-or-string and nullable as type unions, OpenAPI's boolean exclusive limits as numbers. */
export function toAjvSchema(schema: JSONSchemaProps): AnySchemaObject {
  const out: AnySchemaObject = {};
  if (schema['x-kubernetes-int-or-string'] === true) out.type = ['integer', 'string'];
  else if (schema.type !== undefined) out.type = schema.nullable === true ? [schema.type, 'null'] : schema.type;
  for (const keyword of copiedKeywords) if (schema[keyword] !== undefined) out[keyword] = schema[keyword];
  if (schema.minimum !== undefined) out[schema.exclusiveMinimum === true ? 'exclusiveMinimum' : 'minimum'] = schema.minimum;
  if (schema.maximum !== undefined) out[schema.exclusiveMaximum === true ? 'exclusiveMaximum' : 'maximum'] = schema.maximum;
  if (schema.format !== undefined && checkedFormats.has(schema.format)) out.format = schema.format;
  if (schema.properties !== undefined) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, property]) => [key, toAjvSchema(property)]));
  }
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = toAjvSchema(schema.additionalProperties);
  if (schema.items !== undefined) out.items = toAjvSchema(schema.items);
  if (schema.anyOf !== undefined && schema['x-kubernetes-int-or-string'] !== true) out.anyOf = schema.anyOf.map(toAjvSchema);
  return out;
}

// ajv's compiler loads only when a schema is compiled here: the build compiles the CRDs' schemas ahead (precompile.ts),
// and a command that validates with those should not wait for it. ajv is CommonJS, so require keeps this synchronous.
const require = createRequire(import.meta.url);

/** The ajv that checks CRD schemas; `source` keeps each compiled function's code, for ajv's standalone output. */
export function schemaCompiler(options: { source?: boolean } = {}): Ajv {
  const { Ajv } = require('ajv') as typeof ajvModule;
  const addFormats = require('ajv-formats') as typeof addFormatsModule;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false, code: { source: options.source === true } });
  addFormats.default(ajv, [...checkedFormats] as 'date-time'[]);
  return ajv;
}

let compiler: Ajv | undefined;

export function compileSchema(schema: JSONSchemaProps): ValidateFunction {
  compiler ??= schemaCompiler();
  return compiler.compile(toAjvSchema(schema));
}

/** The field path of a JSON pointer into `data`: `/spec/pipeline/2/window` → `spec.pipeline[2].window`. */
function fieldPath(data: unknown, pointer: string): { path: string; value: unknown } {
  let path = '';
  let value = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      path = childPath(path, Number(key));
      value = value[Number(key)];
    } else {
      path = childPath(path, key);
      value = isObject(value) ? value[key] : undefined;
    }
  }
  return { path, value };
}

/** The JSON type kube-openapi names for a value: integers apart from other numbers. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function size(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return isObject(value) ? Object.keys(value).length : 0;
}

export interface SchemaErrors {
  errors: FieldError[];
  /** An error of the kinds after which the API server does not evaluate CEL rules (required, enum, type, too long, too many). */
  blocking: boolean;
}

function translate(error: ErrorObject, data: unknown): { error: FieldError; blocking: boolean } {
  const { path, value } = fieldPath(data, error.instancePath);
  const params = error.params as Record<string, unknown>;
  const limit = params.limit as number;
  const inBody = `${path} in body`;
  switch (error.keyword) {
    case 'required':
      return { error: fieldError.required(childPath(path, params.missingProperty as string)), blocking: true };
    case 'type': {
      const actual = jsonType(value);
      const expected = ([] as string[]).concat(params.type as string | string[]).join(',');
      return { error: fieldError.invalid(path, actual, `${inBody} must be of type ${expected}: ${JSON.stringify(actual)}`), blocking: true };
    }
    case 'enum':
      return { error: fieldError.notSupported(path, value, params.allowedValues as unknown[]), blocking: true };
    case 'maxLength':
      return { error: fieldError.tooLong(path, limit), blocking: true };
    case 'maxItems':
    case 'maxProperties':
      return { error: fieldError.tooMany(path, size(value), limit), blocking: true };
    case 'minLength':
      return { error: fieldError.invalid(path, value, `${inBody} should be at least ${limit} chars long`), blocking: false };
    case 'minItems':
      return { error: fieldError.invalid(path, size(value), `${inBody} should have at least ${limit} items`), blocking: false };
    case 'minProperties':
      return { error: fieldError.invalid(path, size(value), `${inBody} should have at least ${limit} properties`), blocking: false };
    case 'pattern':
      return { error: fieldError.invalid(path, value, `${inBody} should match '${params.pattern as string}'`), blocking: false };
    case 'minimum':
      return { error: fieldError.invalid(path, value, `${inBody} should be greater than or equal to ${limit}`), blocking: false };
    case 'exclusiveMinimum':
      return { error: fieldError.invalid(path, value, `${inBody} should be greater than ${limit}`), blocking: false };
    case 'maximum':
      return { error: fieldError.invalid(path, value, `${inBody} should be less than or equal to ${limit}`), blocking: false };
    case 'exclusiveMaximum':
      return { error: fieldError.invalid(path, value, `${inBody} should be less than ${limit}`), blocking: false };
    case 'format':
      return { error: fieldError.invalid(path, value, `${inBody} must be of type ${params.format as string}: ${JSON.stringify(value)}`), blocking: false };
    default:
      return { error: fieldError.invalid(path, value, `${inBody} ${error.message ?? 'is invalid'}`), blocking: false };
  }
}

/** Checks `data` against a compiled schema and words each failure as the API server does. */
export function checkSchema(validate: ValidateFunction, data: unknown): SchemaErrors {
  if (validate(data)) return { errors: [], blocking: false };
  const translated = (validate.errors ?? []).map((error) => translate(error, data));
  return { errors: translated.map((t) => t.error), blocking: translated.some((t) => t.blocking) };
}
