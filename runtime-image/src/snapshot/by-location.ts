// One snapshot named by its own location (a savepoint's `s3://bucket/prefix/<id>`): read its manifest, or delete it.
import { SnapshotError } from './errors.js';
import { formatLocation, parseLocation, splitSnapshotLocation } from './location.js';
import { MANIFEST, type SnapshotManifest } from './manifest.js';
import { openSnapshotStorage, type StorageOptions } from './open-storage.js';
import { readSnapshot } from './reader.js';
import { removeSnapshot } from './retention.js';
import type { SnapshotStorage } from './storage.js';

async function withParent<T>(location: string, options: StorageOptions, use: (storage: SnapshotStorage, id: string) => Promise<T>): Promise<T> {
  const { parent, id } = splitSnapshotLocation(parseLocation(location));
  const storage = openSnapshotStorage(parent, options);
  try {
    return await use(storage, id);
  } finally {
    storage.close();
  }
}

/**
 * The manifest of the snapshot whose own location this is, or undefined while it is incomplete or when there
 * is none; unlike findSnapshot it never falls back to another snapshot under the location.
 */
export function readSnapshotAt(location: string, options: StorageOptions = {}): Promise<SnapshotManifest | undefined> {
  return withParent(location, options, (storage, id) => readSnapshot(storage, id));
}

/**
 * Deletes the snapshot whose own location this is, complete or not (its manifest first, so no reader takes
 * what is left for complete). Deleting one that is gone already does nothing, so a retried delete succeeds.
 * A location that holds something other than a snapshot (a folder of snapshots, given by mistake) is refused.
 */
export function deleteSnapshot(location: string, options: StorageOptions = {}): Promise<void> {
  return withParent(location, options, async (storage, id) => {
    const objects = await storage.list(id);
    if (objects.length === 0) return;
    const layout = [`${id}/${MANIFEST}`, `${id}/parts/`, `${id}/state/`];
    const foreign = objects.find(({ path }) => !layout.some((allowed) => path === allowed || (allowed.endsWith('/') && path.startsWith(allowed))));
    if (foreign !== undefined) {
      throw new SnapshotError(
        'SLUICE_E_NOT_A_SNAPSHOT',
        `${formatLocation(parseLocation(location))} is not one snapshot's location (it holds ${foreign.path}): give a snapshot's own location, such as s3://bucket/prefix/<id>`,
      );
    }
    await removeSnapshot(storage, id);
  });
}
