// Where the S3 lake sink keeps things: the staged chunks of each source partition, the roll markers, the final Hive-partitioned files; and what a start does with what it finds.

/** What a partition's committed offset metadata records of the sink: its last committed chunk. */
export interface CommittedChunk {
  sequence: number;
  /** The pod start that staged it: a fenced zombie's chunk with the same sequence carries another. */
  attempt: string;
}

/** A staged chunk's place: `<prefix>_staging/<partition>/<sequence>-<attempt>.jsonl`. */
export interface ChunkRef extends CommittedChunk {
  key: string;
}

/** The width sequences are padded to, so a listing sorts them in order. */
const SEQUENCE_DIGITS = 12;

const pad = (sequence: number): string => String(sequence).padStart(SEQUENCE_DIGITS, '0');

/** The folder of a partition's staged chunks and roll marker. `_` makes pyarrow, DuckDB and Spark skip it as hidden. */
export function stagingFolder(prefix: string, partition: number): string {
  return `${prefix}_staging/${partition}/`;
}

export function chunkKey(prefix: string, partition: number, chunk: CommittedChunk): string {
  return `${stagingFolder(prefix, partition)}${pad(chunk.sequence)}-${chunk.attempt}.jsonl`;
}

/** Written once a roll's final files are all in place, deleted after its chunks: a start that finds it only finishes the deletes. */
export function rollMarkerKey(prefix: string, partition: number, first: number, last: number): string {
  return `${stagingFolder(prefix, partition)}rolled-${pad(first)}-${pad(last)}`;
}

/** The Hive partition of an event time (UTC): `dt=2026-12-07/hr=10`. */
export function hivePartition(eventTime: number): string {
  const iso = new Date(eventTime).toISOString();
  return `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}`;
}

/**
 * A final file's key: the partition and the sequence range of the chunks rolled into it, and the attempt of the last
 * one, so redoing a roll after a crash overwrites the same object, and sequences begun again (the job's offsets
 * reset) never overwrite older files.
 */
export function finalKey(prefix: string, hive: string, partition: number, chunks: readonly CommittedChunk[], extension: string): string {
  const first = chunks[0]!;
  const last = chunks.at(-1)!;
  return `${prefix}${hive}/part-${partition}-${pad(first.sequence)}-${pad(last.sequence)}-${last.attempt}.${extension}`;
}

const CHUNK = /\/(\d+)-([0-9a-z]+)\.jsonl$/;
const MARKER = /\/rolled-(\d+)-(\d+)$/;

/** What a start does with a partition's staging folder. */
export interface RecoveryPlan {
  /** A roll whose final files are written: delete its chunks (among `discard`) and then this marker. */
  finishedRoll?: { marker: string; first: number; last: number };
  /** Chunks the last committed transaction covers, in sequence order: rolled to final files. */
  roll: ChunkRef[];
  /** Chunks of transactions that never committed (their records are replayed), of a zombie, or of a finished roll. */
  discard: string[];
}

/**
 * Sorts a partition's staged keys by what the committed metadata says: chunks of the committed attempt up to the
 * committed sequence are committed; any other is not. A start rolls every committed chunk before it stages a new one,
 * so chunks of an earlier attempt left behind are never committed ones.
 */
export function planRecovery(keys: readonly string[], committed: CommittedChunk | undefined): RecoveryPlan {
  const plan: RecoveryPlan = { roll: [], discard: [] };
  for (const key of keys) {
    const marker = MARKER.exec(key);
    if (marker !== null) plan.finishedRoll = { marker: key, first: Number(marker[1]), last: Number(marker[2]) };
  }
  for (const key of keys) {
    const chunk = CHUNK.exec(key);
    if (chunk === null) continue;
    const sequence = Number(chunk[1]);
    const attempt = chunk[2]!;
    const rolled = plan.finishedRoll !== undefined && sequence >= plan.finishedRoll.first && sequence <= plan.finishedRoll.last;
    const isCommitted = committed !== undefined && attempt === committed.attempt && sequence <= committed.sequence;
    if (isCommitted && !rolled) plan.roll.push({ key, sequence, attempt });
    else plan.discard.push(key);
  }
  plan.roll.sort((a, b) => a.sequence - b.sequence);
  return plan;
}

/** The sink's field in a partition's committed offset metadata. */
export function metadataField(sinkName: string): string {
  return `s3:${sinkName}`;
}

/** The last committed chunk a partition's offset metadata records, if it records one. */
export function committedChunkOf(metadata: Record<string, unknown> | undefined, sinkName: string): CommittedChunk | undefined {
  const field = metadata?.[metadataField(sinkName)];
  if (typeof field !== 'object' || field === null) return undefined;
  const { sequence, attempt } = field as Record<string, unknown>;
  return typeof sequence === 'number' && typeof attempt === 'string' ? { sequence, attempt } : undefined;
}
