// The native calls of @nxtedition/rocksdb that the store uses, typed; the package ships no types.
import { createRequire } from 'node:module';

declare const handle: unique symbol;
/** An opaque native object (a napi external). */
export type NativeHandle<Kind extends string> = { readonly [handle]: Kind };
export type DbHandle = NativeHandle<'db'>;
export type IteratorHandle = NativeHandle<'iterator'>;
export type BatchHandle = NativeHandle<'batch'>;

export interface OpenOptions {
  createIfMissing: boolean;
  /** RocksDB block cache in bytes. */
  cacheSize: number;
  /** RocksDB's own log; null silences it. */
  infoLogLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header' | null;
}

/** Bounds are raw key bytes; the encodings must be given ('buffer': the binding tells them apart by length). */
export interface IteratorOptions {
  gt?: Buffer;
  gte?: Buffer;
  lt: Buffer;
  limit?: number;
  keyEncoding: 'buffer';
  valueEncoding: 'buffer';
  /** Whether blocks read by the scan enter the block cache; false keeps a snapshot dump from evicting hot blocks. */
  fillCache: boolean;
}

/**
 * The binding's synchronous calls are the reason it was chosen (bench/rocksdb/compare.ts): a cache
 * miss is served inside the processing of a record, and a flush writes its batch in one call.
 * The JavaScript wrapper of the package (abstract-level) exposes them only as private methods or
 * behind promises, so the store calls the binding directly; the version is pinned exactly.
 */
export interface RocksDbBinding {
  db_init(location: string): DbHandle;
  db_open(db: DbHandle, options: OpenOptions, callback: (err: Error | null) => void): void;
  db_close(db: DbHandle, callback: (err: Error | null) => void): void;
  /** undefined for a missing key, null for a read that timed out (never, without a timeout). */
  db_get_many_sync(db: DbHandle, keys: Buffer[], options: { valueEncoding: 'buffer'; fillCache: boolean }): (Buffer | undefined | null)[];
  /** Deletes [gte, lt) with one range deletion. */
  db_clear(db: DbHandle, options: { gte: Buffer; lt: Buffer }): void;
  iterator_init(db: DbHandle, options: IteratorOptions): IteratorHandle;
  /** Up to `count` entries as [key, value, key, value, …]; `finished` when the range (or the limit) is exhausted. */
  iterator_nextv_sync(iterator: IteratorHandle, count: number): { rows: Buffer[]; finished: boolean };
  iterator_close(iterator: IteratorHandle): void;
  batch_init(): BatchHandle;
  batch_put(batch: BatchHandle, key: Buffer, value: Buffer, options: object): void;
  batch_del(batch: BatchHandle, key: Buffer, options: object): void;
  batch_write(db: DbHandle, batch: BatchHandle, options: { sync: boolean }): void;
  batch_clear(batch: BatchHandle): void;
}

const require = createRequire(import.meta.url);

let loaded: RocksDbBinding | undefined;

/** Loads the prebuilt native module shipped in the package (no compiler involved). */
export function rocksDbBinding(): RocksDbBinding {
  loaded ??= require('@nxtedition/rocksdb/binding.js') as RocksDbBinding;
  return loaded;
}
