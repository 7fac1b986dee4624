// What the build compiled ahead from each CRD (precompile.ts writes crds/dist/precompiled/<kind>.cjs): the parsed manifest
// and its schema's ajv validator, taken only while they were made from the manifest as it is now.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

export const manifestHash = (text: string): string => createHash('sha256').update(text).digest('hex');

// The files are CommonJS, as ajv's standalone code is: require loads them synchronously, as validateManifest runs.
const require = createRequire(import.meta.url);

/**
 * The build's output for `kind` if it was made from `manifest` (the CRD file's text); otherwise undefined, and the caller
 * parses and compiles at run time: a manifest edited since the build must win over the build.
 */
export function precompiled(kind: Kind, manifest: string, dir: string = precompiledDir): Precompiled | undefined {
  const file = `${dir}${precompiledFile(kind)}`;
  if (!existsSync(file)) return undefined;
  const module = require(file) as PrecompiledModule;
  return module.manifestHash === manifestHash(manifest) ? { crd: module.crd, validate: module } : undefined;
}
