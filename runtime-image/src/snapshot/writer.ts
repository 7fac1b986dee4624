// Writes a snapshot: each partition's state file, then the writer's part, then — once every part is there — manifest.json.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreCheckpoint } from '../state/store.js';
import { SnapshotError } from './errors.js';
import {
  MANIFEST,
  manifestJson,
  newSnapshotId,
  parsePart,
  partPath,
  type PartitionSnapshot,
  type SnapshotKind,
  type SnapshotManifest,
  type SnapshotPart,
} from './manifest.js';
import type { SnapshotStorage } from './storage.js';
import { writeStateFile } from './state-file.js';

/** Where one task stood when its state was pinned. */
export interface TaskPosition {
  partition: number;
  sourceOffset: number;
  changelogOffset: number | null;
  watermark: number;
}

export interface SnapshotRequest {
  storage: SnapshotStorage;
  kind: SnapshotKind;
  job: string;
  specHash: string;
  parallelism: number;
  /** The pinned state of the tasks; released when the snapshot is written or has failed. */
  checkpoint: StoreCheckpoint;
  /** One per partition of the checkpoint. */
  tasks: readonly TaskPosition[];
  /**
   * Several writers (the pods of a job taking one savepoint) share an id agreed beforehand and each
   * write their own partitions; without it, a new id and this writer alone.
   */
  shared?: { id: string; writers: number; ordinal: number };
  /** Where state files are staged before they are uploaded; the system's temporary folder by default. */
  stagingDir?: string;
  now?: () => Date;
}

export interface WrittenSnapshot {
  id: string;
  /** The snapshot's own location: what a restore, `lastSavepoint.location` and `streamctl run --restore` take. */
  location: string;
  /** The manifest, when this writer's part completed the snapshot. */
  manifest: SnapshotManifest | undefined;
}

const stateFileName = (partition: number): string => `state/partition-${String(partition).padStart(5, '0')}.bin`;

export async function writeSnapshot(request: SnapshotRequest): Promise<WrittenSnapshot> {
  const { storage, checkpoint } = request;
  const now = request.now ?? ((): Date => new Date());
  try {
    const id = request.shared?.id ?? newSnapshotId(request.kind, now());
    const writers = request.shared?.writers ?? 1;
    const ordinal = request.shared?.ordinal ?? 0;
    checkTasks(request);
    const partitions = await writeStateFiles(request, id);
    const part: SnapshotPart = {
      format: 1,
      id,
      kind: request.kind,
      job: request.job,
      specHash: request.specHash,
      parallelism: request.parallelism,
      writers,
      ordinal,
      createdAt: now().toISOString(),
      partitions,
    };
    await storage.write(`${id}/${partPath(ordinal)}`, manifestJson(part));
    const manifest = await completeIfAllParts(storage, part);
    return { id, location: `${storage.location.replace(/\/+$/, '')}/${id}`, manifest };
  } finally {
    checkpoint.release();
  }
}

function checkTasks({ checkpoint, tasks, shared }: SnapshotRequest): void {
  const positions = new Set(tasks.map((t) => t.partition));
  const pinned = new Set(checkpoint.partitions);
  if (positions.size !== tasks.length || positions.size !== pinned.size || [...positions].some((p) => !pinned.has(p))) {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_TASKS',
      `the task positions (partitions ${[...positions].join(', ')}) must name each partition of the checkpoint (${[...pinned].join(', ')}) once`,
    );
  }
  if (shared !== undefined && !(Number.isInteger(shared.ordinal) && shared.ordinal >= 0 && shared.ordinal < shared.writers)) {
    throw new SnapshotError('SLUICE_E_SNAPSHOT_TASKS', `writer ordinal ${shared.ordinal} is not between 0 and ${shared.writers - 1}`);
  }
}

async function writeStateFiles(request: SnapshotRequest, id: string): Promise<PartitionSnapshot[]> {
  const staging = await mkdtemp(join(request.stagingDir ?? tmpdir(), 'sluice-snapshot-'));
  try {
    const partitions: PartitionSnapshot[] = [];
    for (const task of [...request.tasks].sort((a, b) => a.partition - b.partition)) {
      const file = stateFileName(task.partition);
      const staged = join(staging, `${task.partition}.bin`);
      const summary = await writeStateFile(staged, request.checkpoint.entries(task.partition));
      await request.storage.upload(`${id}/${file}`, staged);
      await rm(staged, { force: true });
      partitions.push({ ...task, file, ...summary });
    }
    return partitions;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Every writer checks after writing its part, and whoever finds all parts writes manifest.json:
 * the last writer always does (S3 lists and reads after a write consistently). Two writers that
 * both find all parts write the same document.
 */
async function completeIfAllParts(storage: SnapshotStorage, own: SnapshotPart): Promise<SnapshotManifest | undefined> {
  const parts: SnapshotPart[] = [];
  for (let ordinal = 0; ordinal < own.writers; ordinal++) {
    if (ordinal === own.ordinal) {
      parts.push(own);
      continue;
    }
    const where = `${own.id}/${partPath(ordinal)}`;
    const bytes = await storage.read(where);
    if (bytes === undefined) return undefined;
    const part = parsePart(bytes, `${storage.location}/${where}`);
    for (const field of ['kind', 'job', 'specHash', 'parallelism', 'writers'] as const) {
      if (part[field] !== own[field]) {
        throw new SnapshotError(
          'SLUICE_E_SNAPSHOT_PARTS',
          `snapshot ${own.id}: writer ${ordinal} wrote ${field} ${JSON.stringify(part[field])}, writer ${own.ordinal} ${JSON.stringify(own[field])}; writers of one snapshot must run the same job`,
        );
      }
    }
    parts.push(part);
  }
  const partitions = parts.flatMap((part) => part.partitions).sort((a, b) => a.partition - b.partition);
  const duplicate = partitions.find((p, i) => i > 0 && partitions[i - 1]?.partition === p.partition);
  if (duplicate !== undefined) {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_PARTS',
      `snapshot ${own.id}: partition ${duplicate.partition} was written by two writers; each partition belongs to one pod`,
    );
  }
  const createdAt = parts
    .map((part) => part.createdAt)
    .sort()
    .at(-1) as string;
  const { id, kind, job, specHash, parallelism, writers } = own;
  const manifest: SnapshotManifest = { format: 1, id, kind, job, specHash, parallelism, writers, createdAt, partitions };
  await storage.write(`${id}/${MANIFEST}`, manifestJson(manifest));
  return manifest;
}
