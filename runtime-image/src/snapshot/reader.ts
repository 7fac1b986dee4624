// Finds complete snapshots (newest first, the latest for a partition) and restores a partition's state from one.
import type { StateStore } from '../state/store.js';
import { SnapshotError } from './errors.js';
import { formatLocation, parseLocation, splitSnapshotLocation } from './location.js';
import { MANIFEST, parseManifest, type SnapshotKind, type SnapshotManifest } from './manifest.js';
import { openSnapshotStorage, type StorageOptions } from './open-storage.js';
import type { SnapshotStorage } from './storage.js';
import { readStateFile } from './state-file.js';
import type { TaskPosition } from './writer.js';

/** Entries written to the store per batch while restoring. */
const RESTORE_BATCH = 1_000;

export interface SnapshotFilter {
  kind?: SnapshotKind;
  job?: string;
  /** Only snapshots that hold this partition's state. */
  partition?: number;
}

/** The manifest of snapshot `id`, or undefined while it is incomplete (or when there is none). */
export async function readSnapshot(storage: SnapshotStorage, id: string): Promise<SnapshotManifest | undefined> {
  const bytes = await storage.read(`${id}/${MANIFEST}`);
  return bytes === undefined ? undefined : parseManifest(bytes, `${storage.location}/${id}/${MANIFEST}`);
}

function matches(manifest: SnapshotManifest, filter: SnapshotFilter): boolean {
  return (
    (filter.kind === undefined || manifest.kind === filter.kind) &&
    (filter.job === undefined || manifest.job === filter.job) &&
    (filter.partition === undefined || manifest.partitions.some((p) => p.partition === filter.partition))
  );
}

/** Newest first: by the time each became complete, then by id. */
export function newestFirst(a: SnapshotManifest, b: SnapshotManifest): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

/** The complete snapshots in the storage, newest first; incomplete ones (no manifest.json yet) are not listed. */
export async function listSnapshots(storage: SnapshotStorage, filter: SnapshotFilter = {}): Promise<SnapshotManifest[]> {
  const ids = await storage.folders('');
  const manifests = await Promise.all(ids.map((id) => readSnapshot(storage, id)));
  return manifests.filter((m): m is SnapshotManifest => m !== undefined && matches(m, filter)).sort(newestFirst);
}

/** The newest complete snapshot that fits the filter: what a restarted task restores from. */
export async function latestSnapshot(storage: SnapshotStorage, filter: SnapshotFilter = {}): Promise<SnapshotManifest | undefined> {
  return (await listSnapshots(storage, filter))[0];
}

/** A snapshot found from a location, with the storage that holds it (close it when done). */
export interface FoundSnapshot {
  storage: SnapshotStorage;
  manifest: SnapshotManifest;
}

/**
 * Resolves what a user gives to restore from: a snapshot's own location (a savepoint's
 * `s3://bucket/prefix/<id>`), else the newest complete snapshot under the location that fits the
 * filter. Undefined when the location holds none.
 */
export async function findSnapshot(location: string, filter: SnapshotFilter = {}, options: StorageOptions = {}): Promise<FoundSnapshot | undefined> {
  const parsed = parseLocation(location);
  const path = (parsed.scheme === 'file' ? parsed.dir : parsed.prefix).replace(/\/+$/, '');
  if (path !== '') {
    const { parent, id } = splitSnapshotLocation(parsed);
    const own = await keepIfFound(openSnapshotStorage(parent, options), (storage) => readSnapshot(storage, id));
    if (own !== undefined) return own;
  }
  return keepIfFound(openSnapshotStorage(parsed, options), (storage) => latestSnapshot(storage, filter));
}

/** Hands the storage to the caller with what was found in it, and closes it otherwise. */
async function keepIfFound(
  storage: SnapshotStorage,
  find: (storage: SnapshotStorage) => Promise<SnapshotManifest | undefined>,
): Promise<FoundSnapshot | undefined> {
  let manifest: SnapshotManifest | undefined;
  try {
    manifest = await find(storage);
  } finally {
    if (manifest === undefined) storage.close();
  }
  return manifest === undefined ? undefined : { storage, manifest };
}

/** Like findSnapshot, for a location that must hold a snapshot (a savepoint to start from). */
export async function requireSnapshot(location: string, filter: SnapshotFilter = {}, options: StorageOptions = {}): Promise<FoundSnapshot> {
  const found = await findSnapshot(location, filter, options);
  if (found === undefined) {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_MISSING',
      `there is no complete snapshot at ${formatLocation(parseLocation(location))}: check the location, or that the job that wrote it finished writing it`,
    );
  }
  return found;
}

export interface RestoreRequest {
  storage: SnapshotStorage;
  manifest: SnapshotManifest;
  partition: number;
  /** Its state for the partition is replaced by the snapshot's. */
  store: StateStore;
}

/**
 * Replaces the partition's state in the store with the snapshot's and returns where the task
 * resumes. Each pod restores only its own partitions, so any parallelism restores any snapshot.
 */
export async function restorePartition({ storage, manifest, partition, store }: RestoreRequest): Promise<TaskPosition> {
  const snapshot = manifest.partitions.find((p) => p.partition === partition);
  if (snapshot === undefined) {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_PARTITION',
      `snapshot ${manifest.id} holds no state for partition ${partition} (it holds ${manifest.partitions.map((p) => p.partition).join(', ') || 'none'}): start that partition empty or pick a snapshot that holds it`,
    );
  }
  const path = `${manifest.id}/${snapshot.file}`;
  store.dropPartition(partition);
  try {
    let batch = store.batch();
    for await (const { operatorId, key, value } of readStateFile(await storage.stream(path), snapshot, `${storage.location}/${path}`)) {
      batch.put({ operatorId, partition }, key, value);
      if (batch.length >= RESTORE_BATCH) {
        batch.write();
        batch = store.batch();
      }
    }
    if (batch.length > 0) batch.write();
  } catch (err) {
    // Half a partition's state is worse than none: the task would run on it without knowing.
    store.dropPartition(partition);
    throw err;
  }
  const { sourceOffset, changelogOffset, watermark } = snapshot;
  return { partition, sourceOffset, changelogOffset, watermark };
}
