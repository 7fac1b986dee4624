// What the StreamJob reconciler reads from a spec: the part the runtime pods run (hashed), the parallelism, and the lifecycle settings.
import { createHash } from 'node:crypto';
import type { StreamJob, StreamJobSpec } from '@sluice/crds';
import { parseDuration } from '@sluice/runtime';

/**
 * Fields that change what the controller does but not what the pods run: a change to one of them never redeploys.
 * (parallelism and suspend redeploy through their own paths; restartNonce is compared on its own so a restart says so.)
 */
const controllerOnly = [
  'parallelism',
  'suspend',
  'savepointTrigger',
  'restartNonce',
  'readinessTimeout',
  'autoscaler',
  'upgradeMode',
  'initialSavepoint',
] as const;

/** The spec as the runtime pods see it: the job's sources, pipeline, sinks and their settings. */
export function runtimeSpec(spec: StreamJobSpec): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...spec };
  for (const field of controllerOnly) delete copy[field];
  // Savepoint retention and period are the controller's; where savepoints go is the pods'.
  if (spec.savepoints !== undefined) copy.savepoints = spec.savepoints.location === undefined ? undefined : { location: spec.savepoints.location };
  return copy;
}

/**
 * `spec` with the runtime part of `runtimeFrom`: what a job runs while its own runtime spec is held back (it was rolled
 * back) and only the controller's fields — parallelism, suspend, restartNonce, … — still apply.
 */
export function withRuntimeOf(spec: StreamJobSpec, runtimeFrom: StreamJobSpec): StreamJobSpec {
  const controller = Object.fromEntries(controllerOnly.filter((field) => spec[field] !== undefined).map((field) => [field, spec[field]]));
  const savepoints =
    spec.savepoints === undefined && runtimeFrom.savepoints?.location === undefined
      ? undefined
      : { ...spec.savepoints, location: runtimeFrom.savepoints?.location };
  if (savepoints !== undefined && savepoints.location === undefined) delete savepoints.location;
  return { ...runtimeSpec(runtimeFrom), ...controller, ...(savepoints === undefined ? {} : { savepoints }) } as unknown as StreamJobSpec;
}

/**
 * The runtime spec to hold back once an upgrade to `failedHash` is rolled back: the job's own when it is the one that
 * failed; when the stable runtime spec failed instead (a rescale or restart of a job whose own spec is already held
 * back), what was held back stays held back — holding back the stable spec would retry the failed one.
 */
export function heldBackAfterRollback(spec: StreamJobSpec, failedHash: string, heldBack: string | undefined): string | undefined {
  return failedHash === specHash(spec) ? failedHash : heldBack;
}

/** A short, stable hash of the runtime spec: equal specs hash equal whatever their key order. */
export function specHash(spec: StreamJobSpec): string {
  return createHash('sha256')
    .update(canonicalJson(runtimeSpec(spec)))
    .digest('hex')
    .slice(0, 10);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function desiredParallelism(spec: StreamJobSpec): number {
  return spec.parallelism ?? 1;
}

/** How many pods the spec asks to run now: none while suspended. */
export function desiredReplicas(spec: StreamJobSpec): number {
  return spec.suspend === true ? 0 : desiredParallelism(spec);
}

export function upgradeModeOf(spec: StreamJobSpec): 'savepoint' | 'last-state' | 'stateless' {
  return spec.upgradeMode ?? 'savepoint';
}

const defaultReadinessTimeoutMs = 5 * 60_000;

export function readinessTimeoutMs(spec: StreamJobSpec): number {
  return spec.readinessTimeout === undefined ? defaultReadinessTimeoutMs : parseDuration(spec.readinessTimeout);
}

/** spec.savepoints.interval in ms, or undefined when savepoints are taken only on request. */
export function savepointIntervalMs(spec: StreamJobSpec): number | undefined {
  return spec.savepoints?.interval === undefined ? undefined : parseDuration(spec.savepoints.interval);
}

/** Where savepoints go: spec.savepoints.location, else the checkpoints' location, else the controller's default. */
export function savepointLocation(spec: StreamJobSpec, fallback: string | undefined): string | undefined {
  return spec.savepoints?.location ?? spec.checkpoints?.location ?? fallback;
}

export function checkpointLocation(spec: StreamJobSpec, fallback: string | undefined): string | undefined {
  return spec.checkpoints?.location ?? fallback;
}

/** The manifest the pods compile and run: the job's name and spec. */
export function jobManifest(job: StreamJob, spec: StreamJobSpec): Record<string, unknown> {
  return { apiVersion: job.apiVersion, kind: job.kind, metadata: { name: job.metadata.name, namespace: job.metadata.namespace }, spec };
}
