// Restoring a task set's state from the latest snapshot plus its changelog tail, and the changelog positions a snapshot records.
import { listSnapshots, restorePartition } from '../snapshot/reader.js';
import type { SnapshotStorage } from '../snapshot/storage.js';
import type { StateStore } from '../state/store.js';
import { changelogTopic } from './changelog.js';
import type { KafkaClient } from './client.js';

/**
 * A snapshot records one changelog position per partition, so it can stand in for the changelog's
 * head only for a job with one stateful operator; with several, the whole changelog is replayed.
 */
export function snapshotChangelog(job: string, statefulIds: readonly string[]): string | undefined {
  return statefulIds.length === 1 ? changelogTopic(job, statefulIds[0]!) : undefined;
}

/**
 * The changelog position of each partition at a commit point: the end of its changelog partition,
 * which only this pod's transactional producer writes, and which holds everything it committed.
 */
export async function changelogPositions(client: KafkaClient, topic: string | undefined, partitions: readonly number[]): Promise<Map<number, number | null>> {
  const ends = topic === undefined ? new Map<number, number>() : await client.endOffsets(topic);
  return new Map(partitions.map((partition) => [partition, topic === undefined ? null : (ends.get(partition) ?? 0)]));
}

export interface SnapshotBase {
  storage: SnapshotStorage;
  job: string;
  /**
   * Only snapshots of this very spec: a changed spec may have moved its stateful operator to
   * another id, whose changelog the snapshot's positions do not describe.
   */
  specHash: string;
  store: StateStore;
  partitions: readonly number[];
  /** The changelog the snapshots' positions refer to; undefined: snapshots cannot shorten the restore. */
  changelog: string | undefined;
  /** Told when a partition's snapshot could not be read (S3 down, say) and its whole changelog is replayed instead. */
  onUnreadable?: (partition: number, error: Error) => void;
}

/**
 * Loads each partition's state from the newest complete snapshot of the spec that holds it and returns where
 * its changelog replay starts; partitions without a usable snapshot start from the beginning (0). A snapshot
 * only shortens the restore, so one that cannot be read (its storage down) is skipped: the compacted
 * changelog alone holds the same state, and a pod that must restart while S3 is away still starts.
 */
export async function restoreSnapshotBase({ storage, job, specHash, store, partitions, changelog, onUnreadable }: SnapshotBase): Promise<Map<number, number>> {
  const from = new Map<number, number>();
  if (changelog === undefined) return from;
  for (const partition of partitions) {
    try {
      const manifest = (await listSnapshots(storage, { job, partition })).find((m) => m.specHash === specHash);
      const position = manifest?.partitions.find((p) => p.partition === partition)?.changelogOffset;
      if (manifest === undefined || position === null || position === undefined) continue;
      await restorePartition({ storage, manifest, partition, store });
      from.set(partition, position);
    } catch (error) {
      // What a half-read snapshot left behind would mix with the changelog's records.
      store.dropPartition(partition);
      onUnreadable?.(partition, error as Error);
    }
  }
  return from;
}
