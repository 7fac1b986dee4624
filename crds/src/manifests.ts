// The three CRDs as shipped in crds/manifests, parsed once, for installers, the validator and the type generator.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { precompiled } from './precompiled.js';

export const group = 'sluice.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

export const kinds = ['StreamJob', 'Topic', 'SchemaSubject'] as const;
export type Kind = (typeof kinds)[number];

/** The manifest file of each kind, in crds/manifests. */
export const crdFiles: Readonly<Record<Kind, string>> = {
  StreamJob: 'streamjobs.yaml',
  Topic: 'topics.yaml',
  SchemaSubject: 'schemasubjects.yaml',
};

/** Resolved from this module's own location, so it holds from src/ (tests, tsx) and from dist/ alike. */
export const manifestsDir = fileURLToPath(new URL('../manifests/', import.meta.url));

export type FieldValueErrorReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** One `x-kubernetes-validations` entry. */
export interface ValidationRule {
  rule: string;
  message?: string;
  fieldPath?: string;
  reason?: FieldValueErrorReason;
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that a structural CRD schema uses. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
}

/** A CustomResourceDefinition as plain JSON, the way `kubectl apply` sends it. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
      additionalPrinterColumns?: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

/** A CRD file's text as JSON. The manifests reuse schema fragments through YAML anchors and merge keys; the JSON round trip unshares them. */
export function parseCrd(text: string): CustomResourceDefinition {
  return JSON.parse(JSON.stringify(parse(text, { merge: true, maxAliasCount: -1 }))) as CustomResourceDefinition;
}

/** A kind's CRD, with its schema's validator when the build compiled one from the manifest as it is now. */
interface Loaded {
  crd: CustomResourceDefinition;
  validate?: ValidateFunction;
}

const loaded = new Map<Kind, Loaded>();

function loadedCrd(kind: Kind): Loaded {
  let entry = loaded.get(kind);
  if (entry === undefined) {
    const text = readFileSync(`${manifestsDir}${crdFiles[kind]}`, 'utf8');
    entry = precompiled(kind, text) ?? { crd: parseCrd(text) };
    loaded.set(kind, entry);
  }
  return entry;
}

function load(kind: Kind): CustomResourceDefinition {
  return loadedCrd(kind).crd;
}

/** A fresh copy of one kind's CRD, safe to change. */
export function crdManifest(kind: Kind): CustomResourceDefinition {
  return structuredClone(load(kind));
}

/** Fresh copies of the three CRDs, to install or inspect. */
export function crdManifests(): CustomResourceDefinition[] {
  return kinds.map(crdManifest);
}

/** The version of a CRD that Sluice serves (`file` names it in the error of a CRD without one). */
export function servedVersion(crd: CustomResourceDefinition, file: string): CustomResourceDefinition['spec']['versions'][number] {
  const served = crd.spec.versions.find((v) => v.name === version);
  if (served === undefined) throw new Error(`${file} serves no version ${version}`);
  return served;
}

function served(kind: Kind): CustomResourceDefinition['spec']['versions'][number] {
  return servedVersion(load(kind), crdFiles[kind]);
}

/** The served version's openAPIV3Schema of a kind, shared and not to be changed. */
export function openAPISchema(kind: Kind): JSONSchemaProps {
  return served(kind).schema.openAPIV3Schema;
}

/** Where the scale subresource of a kind reads its desired replicas (`.spec.parallelism`), if it has one. */
export function specReplicasPath(kind: Kind): string | undefined {
  return served(kind).subresources?.scale?.specReplicasPath;
}

/** The ajv validator of a kind's served schema that the build compiled (precompile.ts), if it matches the manifest now. */
export function precompiledValidator(kind: Kind): ValidateFunction | undefined {
  return loadedCrd(kind).validate;
}
