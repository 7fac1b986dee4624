// The state store contract: bytes under (operator, partition) namespaces, written in batches, read synchronously.
import { SluiceError } from '@sluice/crds/errors';

/**
 * Whose state: one operator's, within one task (source partition). A partition moves between pods
 * together with every namespace that carries its number.
 */
export interface StateNamespace {
  readonly operatorId: string;
  readonly partition: number;
}

/** One stored entry of a partition, as snapshots dump and restore it. */
export interface StoreEntry {
  readonly operatorId: string;
  readonly key: string;
  readonly value: Buffer;
}

export interface ScanOptions {
  /** Start after this key (a sweep resuming where it stopped); from the first key when absent. */
  after?: string;
  /** At most this many entries. */
  limit?: number;
}

/**
 * One namespace, read synchronously: the engine calls these on a cache miss in the middle of
 * processing a record, so they must not wait for the event loop.
 */
export interface StoreView {
  readonly namespace: StateNamespace;
  get(key: string): Buffer | undefined;
  /** One lookup for many keys, in the order given. */
  getMany(keys: readonly string[]): (Buffer | undefined)[];
  /**
   * The namespace's entries in key order, as they stood when the scan began (writes made while it
   * runs are not seen). Stopping early (break) releases what the scan holds.
   */
  scan(options?: ScanOptions): Iterable<readonly [key: string, value: Buffer]>;
}

/** Puts and deletes across namespaces that reach the store together, atomically, on `write()`. */
export interface StoreBatch {
  put(namespace: StateNamespace, key: string, value: Buffer): this;
  delete(namespace: StateNamespace, key: string): this;
  /** How many operations are queued. */
  readonly length: number;
  /** Applies every queued operation at once; the batch is spent afterwards. */
  write(): void;
}

/**
 * A point-in-time view of whole partitions for a snapshot: taken at once, read afterwards (while the
 * job goes on writing), released when the snapshot is written.
 */
export interface StoreCheckpoint {
  readonly partitions: readonly number[];
  /** Every entry of the partition as it stood when the checkpoint was taken, grouped by operator, in key order. */
  entries(partition: number): Iterable<StoreEntry>;
  release(): void;
}

export interface StateStore {
  /** The folder the store keeps its files in. */
  readonly dir: string;
  view(namespace: StateNamespace): StoreView;
  batch(): StoreBatch;
  /** Pins the current state of these partitions for a snapshot. */
  checkpoint(partitions: readonly number[]): StoreCheckpoint;
  /** Removes every namespace of the partition: before restoring it from a snapshot. */
  dropPartition(partition: number): void;
  close(): Promise<void>;
}

/** Thrown for a misuse of the store or a failure of the database underneath, with what to do about it. */
export class StateStoreError extends SluiceError {
  constructor(
    override readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    // A folder locked by another process (the pod before this one, still closing) is let go of: opening it again can succeed.
    super(message, { ...options, retriable: code === 'SLUICE_E_STATE_LOCKED' });
  }
}
