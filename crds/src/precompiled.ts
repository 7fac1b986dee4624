// What the build compiled ahead from each CRD (precompile.ts writes crds/dist/precompiled/<kind>.cjs): the parsed manifest
// and its schema's ajv validator, taken only while they were made from the manifest (and schema translator) as they are now.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import type { CustomResourceDefinition, Kind } from './manifests.js';

/** A precompiled file's module: ajv's standalone validator, with the manifest's hash and the parsed CRD beside it. */
export type PrecompiledModule = ValidateFunction & { manifestHash: string; crd: CustomResourceDefinition };

export interface Precompiled {
  crd: CustomResourceDefinition;
  validate: ValidateFunction;
}

/** Beside this module: crds/dist/precompiled after the build; under src/ (tests, tsx) there is none. */
export const precompiledDir = fileURLToPath(new URL('./precompiled/', import.meta.url));

export const precompiledFile = (kind: Kind): string => `${kind.toLowerCase()}.cjs`;

/** The module that turns a CRD schema into ajv's (openapi.js in dist, openapi.ts under src/): a change to it outdates the validators too. */
const schemaTranslator = fileURLToPath(new URL(`./openapi${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** What a precompiled file was made from: the CRD file's text and the schema translator's code. */
export const manifestHash = (text: string): string => createHash('sha256').update(text).update('\0').update(readFileSync(schemaTranslator)).digest('hex');

// The files are CommonJS, as ajv's standalone code is: require loads them synchronously, as validateManifest runs.
const require = createRequire(import.meta.url);

/**
 * The build's output for `kind` if it was made from `manifest` (the CRD file's text) and today's openapi module;
 * otherwise undefined, and the caller parses and compiles at run time: a manifest edited since the build wins over it.
 */
export function precompiled(kind: Kind, manifest: string, dir: string = precompiledDir): Precompiled | undefined {
  const file = `${dir}${precompiledFile(kind)}`;
  if (!existsSync(file)) return undefined;
  const module = require(file) as PrecompiledModule;
  return module.manifestHash === manifestHash(manifest) ? { crd: module.crd, validate: module } : undefined;
}
