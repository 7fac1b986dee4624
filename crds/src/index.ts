/**
 * @sluice/crds: the StreamJob, Topic and SchemaSubject custom resources. Their CRD manifests (crds/manifests), the
 * TypeScript types generated from the CRD schemas, and one validator that checks a manifest as the API server would.
 */
export * from './generated/condition.js';
export * from './generated/schemasubject.js';
export * from './generated/streamjob.js';
export * from './generated/topic.js';
export type { ObjectMeta, Resource, SchemaSubject, StreamJob, Topic } from './types.js';
export { apiVersion, crdFiles, crdManifest, crdManifests, group, kinds, manifestsDir, version } from './manifests.js';
export type { CustomResourceDefinition, JSONSchemaProps, Kind, PrinterColumn, ValidationRule } from './manifests.js';
export { formatFieldError, type FieldError } from './field-error.js';
export { validateManifest, type ValidateOptions, type ValidationResult } from './validate.js';
export * from './control-api.js';
export * from './runtime-env.js';
export * from './kafka-connection/index.js';
