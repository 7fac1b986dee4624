// Starting a pod's partitions elsewhere than their last commit — from a chosen snapshot (SLUICE_RESTORE_FROM) or with empty state (SLUICE_DISCARD_STATE) — with the changelog records that make the changelog agree.
import type { FoundSnapshot } from '../snapshot/reader.js';
import { restorePartition } from '../snapshot/reader.js';
import type { TaskPosition } from '../snapshot/writer.js';
import type { StateChange } from '../state/cached-keyed-state.js';
import type { StateStore } from '../state/store.js';

/**
 * What a partition's committed offset metadata records of a start that did not resume from the last commit,
 * so a restart with the same setting resumes from its last commit instead of starting over again: the
 * snapshot's id after a rollback, the upgrade's marker after state was discarded.
 */
export type StartMark = { restoredFrom: string } | { discardedState: string };

/** True when the metadata of a partition's committed offset records this start, so it was applied already. */
export function carriesMark(metadata: string | null | undefined, mark: StartMark): boolean {
  if (metadata === null || metadata === undefined || metadata === '') return false;
  const recorded = JSON.parse(metadata) as Record<string, unknown>;
  return Object.entries(mark).every(([field, value]) => recorded[field] === value);
}

/** How one partition starts over: its state replaced in the store, and the changelog records that say so. */
export interface StartOver {
  readonly mark: StartMark;
  /**
   * Replaces the partition's state in the store (which holds the changelog's head); returns where its task
   * starts (undefined: at its committed offset and watermark) and the changes from the head to the new state,
   * for the first transaction, so a later restore from the changelog (or a checkpoint plus its tail) arrives
   * at the new state and not at the one the job had before.
   */
  apply(store: StateStore, partition: number, operatorIds: readonly string[]): Promise<{ position: TaskPosition | undefined; changes: StateChange[] }>;
}

type Entries = Map<string, { operatorId: string; key: string; value: Buffer }>;

function entries(store: StateStore, partition: number, operatorIds: readonly string[]): Entries {
  const found: Entries = new Map();
  for (const operatorId of operatorIds) {
    for (const [key, value] of store.view({ operatorId, partition }).scan()) found.set(JSON.stringify([operatorId, key]), { operatorId, key, value });
  }
  return found;
}

/** Puts for what is new or changed, tombstones for the keys `to` has not got. */
function changesBetween(from: Entries, to: Entries): StateChange[] {
  const changes: StateChange[] = [];
  for (const [id, { operatorId, key, value }] of to) {
    if (!from.get(id)?.value.equals(value)) changes.push({ operatorId, key, value });
  }
  for (const [id, { operatorId, key }] of from) if (!to.has(id)) changes.push({ operatorId, key, value: null });
  return changes;
}

/** Loads each partition's state, offset and watermark from the snapshot (SLUICE_RESTORE_FROM). */
export function fromSavepoint(savepoint: FoundSnapshot): StartOver {
  return {
    mark: { restoredFrom: savepoint.manifest.id },
    async apply(store, partition, operatorIds) {
      const head = entries(store, partition, operatorIds);
      const position = await restorePartition({ storage: savepoint.storage, manifest: savepoint.manifest, partition, store });
      return { position, changes: changesBetween(head, entries(store, partition, operatorIds)) };
    },
  };
}

/** Empties each partition's state and keeps its committed offset and watermark (SLUICE_DISCARD_STATE, a stateless upgrade). */
export function withEmptyState(marker: string): StartOver {
  return {
    mark: { discardedState: marker },
    apply(store, partition, operatorIds) {
      const changes = changesBetween(entries(store, partition, operatorIds), new Map());
      store.dropPartition(partition);
      return Promise.resolve({ position: undefined, changes });
    },
  };
}
