// Opens the snapshot storage a location string names: an S3 prefix or a local folder.
import { LocalSnapshotStorage } from './local-storage.js';
import { parseLocation, type SnapshotLocation } from './location.js';
import { S3SnapshotStorage, type S3Settings } from './s3-storage.js';
import type { SnapshotStorage } from './storage.js';

export interface StorageOptions {
  /** For s3:// locations (spec.checkpoints.s3 in a job). */
  s3?: S3Settings;
}

export function openSnapshotStorage(location: string | SnapshotLocation, options: StorageOptions = {}): SnapshotStorage {
  const parsed = typeof location === 'string' ? parseLocation(location) : location;
  return parsed.scheme === 's3' ? new S3SnapshotStorage(parsed.bucket, parsed.prefix, options.s3) : new LocalSnapshotStorage(parsed.dir);
}
