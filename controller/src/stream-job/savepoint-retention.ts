// Savepoint retention: which savepoints a job keeps (spec.savepoints.retention count and maxAge) and which are deleted.
import type { Savepoint, SavepointSettings } from '@sluice/crds';
import { parseDuration } from '@sluice/runtime';

/** Without a retention count a job keeps this many savepoints (the CRD's default for spec.savepoints.retention.count). */
export const defaultRetainedSavepoints = 5;

/**
 * Keeps the newest `count` savepoints younger than `maxAge`; the newest is always kept, and so is every savepoint in
 * `protectedLocations` (one a deployment restores from). `savepoints` is newest first.
 */
export function retain(
  savepoints: readonly Savepoint[],
  retention: SavepointSettings['retention'],
  now: Date,
  protectedLocations: readonly (string | undefined)[] = [],
): { kept: Savepoint[]; removed: Savepoint[] } {
  const count = retention?.count ?? defaultRetainedSavepoints;
  const maxAgeMs = retention?.maxAge === undefined ? undefined : parseDuration(retention.maxAge);
  const kept: Savepoint[] = [];
  const removed: Savepoint[] = [];
  savepoints.forEach((savepoint, index) => {
    const young = maxAgeMs === undefined || now.getTime() - new Date(savepoint.timestamp).getTime() <= maxAgeMs;
    if (index === 0 || protectedLocations.includes(savepoint.location) || (index < count && young)) kept.push(savepoint);
    else removed.push(savepoint);
  });
  return { kept, removed };
}
