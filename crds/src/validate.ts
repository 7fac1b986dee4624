// validateManifest: what the API server would refuse in a Sluice manifest, found without one, from the same CRD YAML.
import type { ValidateFunction } from 'ajv';
import { checkRules } from './cel-rules.js';
import { applyDefaults } from './defaulting.js';
import { fieldError, type FieldError } from './field-error.js';
import { checkListTypes } from './list-types.js';
import { apiVersion, kinds, openAPISchema, precompiledValidator, specReplicasPath, type JSONSchemaProps, type Kind } from './manifests.js';
import { checkMetadata } from './metadata.js';
import { checkSchema, compileSchema } from './openapi.js';
import { pruneUnknownFields } from './pruning.js';
import { checkScale } from './scale.js';
import { isObject, type JSONObject } from './structural.js';

export interface ValidateOptions {
  /** The object as it is stored now: the manifest is then an update, and transition rules (oldSelf) apply. */
  old?: unknown;
}

export interface ValidationResult {
  /** Empty when the API server would accept the manifest. */
  errors: FieldError[];
  /** The manifest as the API server would store it: unknown fields and status dropped, defaults filled in. */
  manifest: unknown;
}

const validators = new Map<Kind, { schema: JSONSchemaProps; validate: ValidateFunction }>();

function validatorFor(kind: Kind): { schema: JSONSchemaProps; validate: ValidateFunction } {
  let validator = validators.get(kind);
  if (validator === undefined) {
    const schema = openAPISchema(kind);
    validator = { schema, validate: precompiledValidator(kind) ?? compileSchema(schema) };
    validators.set(kind, validator);
  }
  return validator;
}

function isKind(value: unknown): value is Kind {
  return kinds.includes(value as Kind);
}

/** The type of a manifest, or the errors that say it is not one of ours. */
function kindOf(manifest: JSONObject): Kind | FieldError[] {
  const errors: FieldError[] = [];
  if (manifest.apiVersion !== apiVersion) errors.push(fieldError.notSupported('apiVersion', manifest.apiVersion ?? '', [apiVersion]));
  if (!isKind(manifest.kind)) errors.push(fieldError.notSupported('kind', manifest.kind ?? '', kinds));
  return errors.length > 0 || !isKind(manifest.kind) ? errors : manifest.kind;
}

/** A copy as the main resource endpoint takes it: status belongs to the status subresource and is dropped. */
function withoutStatus(manifest: JSONObject): JSONObject {
  const copy = structuredClone(manifest);
  delete copy.status;
  return copy;
}

/** Before it validates, the API server generates a generateName'd object's name: five more characters. */
function named(manifest: JSONObject): JSONObject {
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  if (metadata.name !== undefined || typeof metadata.generateName !== 'string') return manifest;
  return { ...manifest, metadata: { ...metadata, name: `${metadata.generateName}xxxxx` } };
}

/** The API server reports this against no field at all, which it prints as <nil>. */
const notCheckedMessage = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/**
 * Validates a StreamJob, Topic or SchemaSubject manifest as the API server would on create (or, with `old`, on update):
 * strict field validation, defaults, the OpenAPI schema, the scale subresource's replicas, list types and the CEL rules. Errors name the field
 * (`spec.pipeline[2].window.size`) and are worded as the API server words them.
 */
export function validateManifest(manifest: unknown, options: ValidateOptions = {}): ValidationResult {
  if (!isObject(manifest)) {
    return { errors: [fieldError.invalid('', typeof manifest, 'a manifest is an object with apiVersion, kind, metadata and spec')], manifest };
  }
  const kind = kindOf(manifest);
  if (Array.isArray(kind)) return { errors: kind, manifest };
  const { schema, validate } = validatorFor(kind);

  const object = withoutStatus(manifest);
  const errors = pruneUnknownFields(object, schema);
  applyDefaults(object, schema);
  const metadata = checkMetadata(object.metadata);
  const openapi = checkSchema(validate, object);
  const replicasPath = specReplicasPath(kind);
  errors.push(
    ...metadata.errors,
    ...openapi.errors,
    ...(replicasPath === undefined ? [] : checkScale(object, replicasPath)),
    ...checkListTypes(object, schema),
  );

  if (metadata.blocking || openapi.blocking) {
    errors.push(fieldError.invalid('<nil>', null, notCheckedMessage));
  } else {
    const old = isObject(options.old) ? withoutStatus(options.old) : undefined;
    if (old !== undefined) {
      pruneUnknownFields(old, schema);
      applyDefaults(old, schema);
    }
    errors.push(...checkRules(named(object), old, schema));
  }
  return { errors, manifest: object };
}
