// The contract of a place snapshots are kept (a local folder, an S3 prefix): objects under '/'-separated paths.

export interface StoredObject {
  /** Relative to the storage's root. */
  readonly path: string;
  readonly bytes: number;
  readonly modifiedAt: Date;
}

/**
 * Objects are whole once visible: a reader never sees half of one. That, and writing a snapshot's
 * manifest last, is what makes a snapshot visible only when complete.
 */
export interface SnapshotStorage {
  /** The root, as a location string. */
  readonly location: string;
  write(path: string, body: Buffer): Promise<void>;
  /** Copies a local file to `path`. */
  upload(path: string, file: string): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  read(path: string): Promise<Buffer | undefined>;
  /** The object's bytes as they arrive; fails when there is none. */
  stream(path: string): Promise<AsyncIterable<Buffer>>;
  /** The names of the folders directly under `path` ('' for the root). */
  folders(path: string): Promise<string[]>;
  /** Every object under the folder `path`, at any depth. */
  list(path: string): Promise<StoredObject[]>;
  /** Deletes one object; nothing when there is none. */
  delete(path: string): Promise<void>;
  /** Deletes every object under the folder `path`. */
  deleteAll(path: string): Promise<void>;
  close(): void;
}
