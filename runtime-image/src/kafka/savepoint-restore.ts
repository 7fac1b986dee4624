// Starting a pod's partitions from a chosen snapshot (SLUICE_RESTORE_FROM) instead of its last commit, with the changelog records that make the changelog agree.
import type { FoundSnapshot } from '../snapshot/reader.js';
import { restorePartition } from '../snapshot/reader.js';
import type { TaskPosition } from '../snapshot/writer.js';
import type { StateChange } from '../state/cached-keyed-state.js';
import type { StateStore } from '../state/store.js';

export interface SavepointRestore {
  savepoint: FoundSnapshot;
  /** Holds the partition's state as its changelog has it (the head); replaced by the snapshot's. */
  store: StateStore;
  partition: number;
  /** The operators that have a changelog. */
  operatorIds: readonly string[];
}

function entries(store: StateStore, partition: number, operatorIds: readonly string[]): Map<string, { operatorId: string; key: string; value: Buffer }> {
  const found = new Map<string, { operatorId: string; key: string; value: Buffer }>();
  for (const operatorId of operatorIds) {
    for (const [key, value] of store.view({ operatorId, partition }).scan()) found.set(JSON.stringify([operatorId, key]), { operatorId, key, value });
  }
  return found;
}

/**
 * Loads the partition's state, offset and watermark from the snapshot, and returns the changes that turn the
 * changelog's head into the snapshot's state (puts, and tombstones for keys the snapshot has not got). Written
 * in the first transaction, they make a later restore from the changelog (or from a newer checkpoint plus its
 * tail) arrive at the snapshot's state, not at the state the job had before it was rolled back.
 */
export async function restoreFromSavepoint({ savepoint, store, partition, operatorIds }: SavepointRestore): Promise<{ position: TaskPosition; changes: StateChange[] }> {
  const head = entries(store, partition, operatorIds);
  const position = await restorePartition({ storage: savepoint.storage, manifest: savepoint.manifest, partition, store });
  const restored = entries(store, partition, operatorIds);
  const changes: StateChange[] = [];
  for (const [id, { operatorId, key, value }] of restored) {
    if (!head.get(id)?.value.equals(value)) changes.push({ operatorId, key, value });
  }
  for (const [id, { operatorId, key }] of head) if (!restored.has(id)) changes.push({ operatorId, key, value: null });
  return { position, changes };
}
