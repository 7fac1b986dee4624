// Retention: keeps the newest snapshots of each partition, deletes older ones and abandoned incomplete ones.
import { MANIFEST, parsePart, type SnapshotKind, type SnapshotManifest } from './manifest.js';
import { newestFirst, readSnapshot } from './reader.js';
import type { SnapshotStorage } from './storage.js';

export interface RetentionPolicy {
  kind: SnapshotKind;
  /** Only this job's snapshots, where a location holds several jobs. */
  job?: string;
  /** Keep the newest this many snapshots of each partition. */
  count?: number;
  /** Delete snapshots older than this, except the newest of each partition. */
  maxAgeMs?: number;
  /** An incomplete snapshot untouched this long was abandoned by a writer that died; 1 hour by default. */
  abandonedAfterMs?: number;
  now?: Date;
}

const DEFAULT_ABANDONED_AFTER_MS = 3_600_000;

/**
 * Retention counts per partition, not per snapshot: the pods of a job checkpoint independently, so
 * "the newest N" of the whole location could hold only one pod's partitions.
 * Returns the ids it deleted.
 */
export async function applyRetention(storage: SnapshotStorage, policy: RetentionPolicy): Promise<string[]> {
  const now = (policy.now ?? new Date()).getTime();
  const ids = await storage.folders('');
  const manifests = await Promise.all(ids.map(async (id) => ({ id, manifest: await readSnapshot(storage, id) })));
  const complete = manifests
    .map(({ manifest }) => manifest)
    .filter((m): m is SnapshotManifest => m !== undefined && m.kind === policy.kind && (policy.job === undefined || m.job === policy.job))
    .sort(newestFirst);

  const expired = new Set<string>();
  const seenPerPartition = new Map<number, number>();
  for (const manifest of complete) {
    let keptForSomePartition = false;
    let newestOfSomePartition = false;
    for (const { partition } of manifest.partitions) {
      const seen = seenPerPartition.get(partition) ?? 0;
      seenPerPartition.set(partition, seen + 1);
      if (seen === 0) newestOfSomePartition = true;
      if (policy.count === undefined || seen < policy.count) keptForSomePartition = true;
    }
    const old = policy.maxAgeMs !== undefined && now - Date.parse(manifest.createdAt) > policy.maxAgeMs;
    if (!newestOfSomePartition && (!keptForSomePartition || old)) expired.add(manifest.id);
  }

  const abandoned = await Promise.all(
    manifests.filter(({ manifest }) => manifest === undefined).map(async ({ id }) => ((await isAbandoned(storage, id, policy, now)) ? id : undefined)),
  );

  const deleted: string[] = [];
  for (const id of [...expired, ...abandoned.filter((id): id is string => id !== undefined)]) {
    await removeSnapshot(storage, id);
    deleted.push(id);
  }
  return deleted;
}

/** Deletes snapshot `id` and everything under it. */
export async function removeSnapshot(storage: SnapshotStorage, id: string): Promise<void> {
  // The manifest goes first: from that moment no reader takes the snapshot for complete.
  await storage.delete(`${id}/${MANIFEST}`);
  await storage.deleteAll(id);
}

/** A folder laid out as a snapshot (parts or state files), without a manifest, not written to for a while, of this kind and job. */
async function isAbandoned(storage: SnapshotStorage, id: string, policy: RetentionPolicy, now: number): Promise<boolean> {
  const objects = await storage.list(id);
  const ours = objects.filter(({ path }) => path.startsWith(`${id}/parts/`) || path.startsWith(`${id}/state/`));
  if (ours.length === 0) return false;
  const lastWrite = Math.max(...objects.map(({ modifiedAt }) => modifiedAt.getTime()));
  if (now - lastWrite <= (policy.abandonedAfterMs ?? DEFAULT_ABANDONED_AFTER_MS)) return false;
  for (const { path } of ours.filter(({ path }) => path.startsWith(`${id}/parts/`) && path.endsWith('.json'))) {
    const bytes = await storage.read(path);
    if (bytes === undefined) continue;
    const part = parsePart(bytes, `${storage.location}/${path}`);
    if (part.kind !== policy.kind || (policy.job !== undefined && part.job !== policy.job)) return false;
  }
  return true;
}
