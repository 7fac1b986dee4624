// The manifest of a snapshot (manifest.json, written last) and of each writer's part, with their JSON checks.
import { randomBytes } from 'node:crypto';
import { messageOf } from '../error-message.js';
import { SnapshotError } from './errors.js';

export type SnapshotKind = 'checkpoint' | 'savepoint';

/** One task's snapshot: its state file and where its inputs and time stood when the state was taken. */
export interface PartitionSnapshot {
  partition: number;
  /** The state file, relative to the snapshot's folder. */
  file: string;
  bytes: number;
  sha256: string;
  entries: number;
  /** The source offset the task resumes from: the next record to read. */
  sourceOffset: number;
  /** The changelog offset the state includes up to (exclusive): the restore replays from here; null without a changelog. */
  changelogOffset: number | null;
  /** The task's watermark in epoch ms; −∞ before the first record, +∞ after the end of a bounded input. */
  watermark: number;
}

/** What every writer of a snapshot agrees on. */
export interface SnapshotHeader {
  id: string;
  kind: SnapshotKind;
  job: string;
  /** The hash of the job spec that took it, so a restore can tell a changed job. */
  specHash: string;
  /** The job's parallelism when it was taken. */
  parallelism: number;
  /** How many writers (pods) contribute parts; the snapshot is complete when all have. */
  writers: number;
}

/** What one writer wrote: parts/<ordinal>.json. */
export interface SnapshotPart extends SnapshotHeader {
  format: 1;
  ordinal: number;
  createdAt: string;
  partitions: PartitionSnapshot[];
}

/** manifest.json: a complete snapshot. */
export interface SnapshotManifest extends SnapshotHeader {
  format: 1;
  /** When the last part was written: the moment the snapshot became complete. */
  createdAt: string;
  partitions: PartitionSnapshot[];
}

export const MANIFEST = 'manifest.json';
export const partPath = (ordinal: number): string => `parts/${ordinal}.json`;

/** Sortable by time, unique without coordination: 20250101T120000123Z-checkpoint-1a2b3c. */
export function newSnapshotId(kind: SnapshotKind, at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${kind}-${randomBytes(3).toString('hex')}`;
}

/** JSON has no infinities: the watermark's ends are written as strings. */
type StoredWatermark = number | '-Infinity' | 'Infinity';

function storeWatermark(watermark: number): StoredWatermark {
  if (watermark === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (watermark === Number.POSITIVE_INFINITY) return 'Infinity';
  return watermark;
}

export function manifestJson(manifest: SnapshotManifest | SnapshotPart): Buffer {
  const partitions = manifest.partitions.map((p) => ({ ...p, watermark: storeWatermark(p.watermark) }));
  return Buffer.from(`${JSON.stringify({ ...manifest, partitions }, null, 2)}\n`, 'utf8');
}

class Checker {
  constructor(readonly where: string) {}

  fail(field: string, what: string): never {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_MANIFEST',
      `${this.where}: ${field} ${what}; the snapshot was not written by this version of Sluice or is damaged`,
    );
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'is not an object');
    return value as Record<string, unknown>;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, 'is not a non-empty string');
    return value;
  }

  count(value: unknown, field: string, min = 0): number {
    if (!Number.isSafeInteger(value) || (value as number) < min) this.fail(field, `is not a whole number ≥ ${min}`);
    return value as number;
  }

  watermark(value: unknown, field: string): number {
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, 'is not a number of epoch milliseconds, -Infinity or Infinity');
    return value;
  }

  partition(value: unknown, field: string): PartitionSnapshot {
    const p = this.object(value, field);
    return {
      partition: this.count(p.partition, `${field}.partition`),
      file: this.string(p.file, `${field}.file`),
      bytes: this.count(p.bytes, `${field}.bytes`),
      sha256: this.string(p.sha256, `${field}.sha256`),
      entries: this.count(p.entries, `${field}.entries`),
      sourceOffset: this.count(p.sourceOffset, `${field}.sourceOffset`),
      changelogOffset: p.changelogOffset === null ? null : this.count(p.changelogOffset, `${field}.changelogOffset`),
      watermark: this.watermark(p.watermark, `${field}.watermark`),
    };
  }

  header(m: Record<string, unknown>): SnapshotHeader & { format: 1; createdAt: string; partitions: PartitionSnapshot[] } {
    if (m.format !== 1) this.fail('format', `is ${JSON.stringify(m.format)}, not 1`);
    if (m.kind !== 'checkpoint' && m.kind !== 'savepoint') this.fail('kind', 'is neither checkpoint nor savepoint');
    const createdAt = this.string(m.createdAt, 'createdAt');
    if (Number.isNaN(Date.parse(createdAt))) this.fail('createdAt', 'is not a date-time');
    if (!Array.isArray(m.partitions)) this.fail('partitions', 'is not a list');
    return {
      format: 1,
      id: this.string(m.id, 'id'),
      kind: m.kind,
      job: this.string(m.job, 'job'),
      specHash: this.string(m.specHash, 'specHash'),
      parallelism: this.count(m.parallelism, 'parallelism', 1),
      writers: this.count(m.writers, 'writers', 1),
      createdAt,
      partitions: m.partitions.map((p, i) => this.partition(p, `partitions[${i}]`)),
    };
  }
}

function parseJson(bytes: Buffer, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new SnapshotError('SLUICE_E_SNAPSHOT_MANIFEST', `${where} is not JSON (${messageOf(err)}); the snapshot is damaged`, { cause: err });
  }
  return new Checker(where).object(value, 'the document');
}

export function parseManifest(bytes: Buffer, where: string): SnapshotManifest {
  return new Checker(where).header(parseJson(bytes, where));
}

export function parsePart(bytes: Buffer, where: string): SnapshotPart {
  const checker = new Checker(where);
  const json = parseJson(bytes, where);
  return { ...checker.header(json), ordinal: checker.count(json.ordinal, 'ordinal') };
}
