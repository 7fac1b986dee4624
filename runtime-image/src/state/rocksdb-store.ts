// The state store on RocksDB (@nxtedition/rocksdb): namespaces as key prefixes, synchronous reads and batch writes.
import { mkdirSync } from 'node:fs';
import { messageOf } from '../error-message.js';
import { rocksDbBinding, type BatchHandle, type DbHandle, type IteratorHandle, type RocksDbBinding } from './rocksdb-binding.js';
import {
  StateStoreError,
  type ScanOptions,
  type StateNamespace,
  type StateStore,
  type StoreBatch,
  type StoreCheckpoint,
  type StoreEntry,
  type StoreView,
} from './store.js';

/*
 * Key layout: [partition: uint32 big-endian][operatorId: UTF-8][0x00][key: UTF-8].
 * The partition comes first so that one partition's state, across all its operators, is one
 * contiguous range: a snapshot dumps it with one scan and a restore drops it with one range deletion.
 * The 0x00 after the operator id keeps `op` and `op2` apart; operator ids may not contain it.
 */
const PARTITION_BYTES = 4;
const SEPARATOR = 0x00;
const MAX_PARTITION = 0xfffffffe;
/** Entries read from the native iterator per call: large enough to amortise the call, small enough to stay cheap. */
const PAGE = 512;

export interface RocksDbStoreOptions {
  /** RocksDB's block cache; the write-back cache in front of the store is what keeps hot keys in memory. */
  blockCacheBytes?: number;
}

function checkPartition(partition: number): number {
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) {
    throw new StateStoreError('SLUICE_E_STATE_PARTITION', `partition ${partition} is not a whole number between 0 and ${MAX_PARTITION}`);
  }
  return partition;
}

function partitionBytes(partition: number): Buffer {
  const bytes = Buffer.allocUnsafe(PARTITION_BYTES);
  bytes.writeUInt32BE(partition);
  return bytes;
}

/** The first key of a namespace: partition, operator id, separator. */
function namespacePrefix({ operatorId, partition }: StateNamespace): Buffer {
  if (operatorId.length === 0 || operatorId.includes('\u0000')) {
    throw new StateStoreError(
      'SLUICE_E_STATE_OPERATOR_ID',
      `operator id ${JSON.stringify(operatorId)} must be non-empty and must not contain the character U+0000`,
    );
  }
  return Buffer.concat([partitionBytes(checkPartition(partition)), Buffer.from(operatorId, 'utf8'), Buffer.of(SEPARATOR)]);
}

/** The smallest key after every key that starts with `prefix` (whose last byte is below 0xff by construction). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

function partitionRange(partition: number): { gte: Buffer; lt: Buffer } {
  return { gte: partitionBytes(checkPartition(partition)), lt: partitionBytes(partition + 1) };
}

/** Reads an iterator's range page by page; the native iterator pins the state as of its creation. */
function* readRange(store: RocksDbStore, iterator: IteratorHandle): Generator<readonly [Buffer, Buffer]> {
  const native = store.native;
  try {
    for (;;) {
      // Closing the database closes its iterators underneath; reading one then would crash the process.
      store.checkOpen();
      const { rows, finished } = native.iterator_nextv_sync(iterator, PAGE);
      for (let i = 0; i < rows.length; i += 2) yield [rows[i] as Buffer, rows[i + 1] as Buffer];
      if (finished) return;
    }
  } finally {
    native.iterator_close(iterator);
  }
}

class RocksDbView implements StoreView {
  readonly namespace: StateNamespace;
  readonly #store: RocksDbStore;
  readonly #prefix: Buffer;
  readonly #end: Buffer;

  constructor(store: RocksDbStore, namespace: StateNamespace) {
    this.namespace = { operatorId: namespace.operatorId, partition: namespace.partition };
    this.#store = store;
    this.#prefix = namespacePrefix(namespace);
    this.#end = prefixEnd(this.#prefix);
  }

  key(key: string): Buffer {
    const bytes = Buffer.allocUnsafe(this.#prefix.length + Buffer.byteLength(key, 'utf8'));
    this.#prefix.copy(bytes, 0);
    bytes.write(key, this.#prefix.length, 'utf8');
    return bytes;
  }

  get(key: string): Buffer | undefined {
    return this.getMany([key])[0];
  }

  getMany(keys: readonly string[]): (Buffer | undefined)[] {
    const values = this.#store.native.db_get_many_sync(
      this.#store.db,
      keys.map((key) => this.key(key)),
      { valueEncoding: 'buffer', fillCache: true },
    );
    return values.map((value, i) => {
      if (value === null)
        throw new StateStoreError('SLUICE_E_STATE_READ', `reading key ${JSON.stringify(keys[i])} of ${describe(this.namespace)} was aborted by RocksDB`);
      return value;
    });
  }

  *scan(options: ScanOptions = {}): Generator<readonly [string, Buffer]> {
    const from = options.after === undefined ? { gte: this.#prefix } : { gt: this.key(options.after) };
    const iterator = this.#store.iterator({ ...from, lt: this.#end, limit: options.limit, fillCache: true });
    const offset = this.#prefix.length;
    for (const [key, value] of readRange(this.#store, iterator)) yield [key.toString('utf8', offset), value];
  }
}

class RocksDbBatch implements StoreBatch {
  readonly #store: RocksDbStore;
  readonly #batch: BatchHandle;
  #length = 0;
  #spent = false;

  constructor(store: RocksDbStore) {
    this.#store = store;
    this.#batch = store.native.batch_init();
  }

  get length(): number {
    return this.#length;
  }

  put(namespace: StateNamespace, key: string, value: Buffer): this {
    this.#store.native.batch_put(this.#live(), this.#store.view(namespace).key(key), value, {});
    this.#length++;
    return this;
  }

  delete(namespace: StateNamespace, key: string): this {
    this.#store.native.batch_del(this.#live(), this.#store.view(namespace).key(key), {});
    this.#length++;
    return this;
  }

  write(): void {
    const batch = this.#live();
    this.#spent = true;
    try {
      // No fsync: the store is rebuilt from the snapshot and the changelog after a crash, never trusted as is.
      this.#store.native.batch_write(this.#store.db, batch, { sync: false });
    } finally {
      this.#store.native.batch_clear(batch);
    }
  }

  #live(): BatchHandle {
    if (this.#spent) throw new StateStoreError('SLUICE_E_STATE_BATCH_SPENT', 'this batch was already written: start a new one with store.batch()');
    return this.#batch;
  }
}

class RocksDbCheckpoint implements StoreCheckpoint {
  readonly partitions: readonly number[];
  readonly #store: RocksDbStore;
  readonly #iterators: Map<number, IteratorHandle>;

  constructor(store: RocksDbStore, iterators: Map<number, IteratorHandle>) {
    this.#store = store;
    this.#iterators = iterators;
    this.partitions = [...iterators.keys()];
  }

  *entries(partition: number): Generator<StoreEntry> {
    const iterator = this.#iterators.get(partition);
    if (iterator === undefined) {
      throw new StateStoreError(
        'SLUICE_E_STATE_CHECKPOINT',
        `partition ${partition} is not in this checkpoint (or was read already); it holds ${this.partitions.join(', ')}`,
      );
    }
    this.#iterators.delete(partition);
    for (const [key, value] of readRange(this.#store, iterator)) {
      const separator = key.indexOf(SEPARATOR, PARTITION_BYTES);
      yield { operatorId: key.toString('utf8', PARTITION_BYTES, separator), key: key.toString('utf8', separator + 1), value };
    }
  }

  release(): void {
    for (const iterator of this.#iterators.values()) this.#store.native.iterator_close(iterator);
    this.#iterators.clear();
  }
}

function describe({ operatorId, partition }: StateNamespace): string {
  return `operator ${JSON.stringify(operatorId)} partition ${partition}`;
}

export class RocksDbStore implements StateStore {
  readonly dir: string;
  readonly native: RocksDbBinding;
  readonly #db: DbHandle;
  readonly #views = new Map<string, Map<number, RocksDbView>>();
  #open = true;

  private constructor(dir: string, native: RocksDbBinding, db: DbHandle) {
    this.dir = dir;
    this.native = native;
    this.#db = db;
  }

  /** Opens (creating if needed) the RocksDB database in `dir`; one process at a time may hold it. */
  static async open(dir: string, options: RocksDbStoreOptions = {}): Promise<RocksDbStore> {
    const native = rocksDbBinding();
    mkdirSync(dir, { recursive: true });
    const db = native.db_init(dir);
    try {
      await new Promise<void>((resolve, reject) =>
        native.db_open(db, { createIfMissing: true, cacheSize: options.blockCacheBytes ?? 32 << 20, infoLogLevel: null }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    } catch (err) {
      const locked = (err as { code?: string }).code === 'LEVEL_LOCKED';
      throw new StateStoreError(
        locked ? 'SLUICE_E_STATE_LOCKED' : 'SLUICE_E_STATE_OPEN',
        locked
          ? `the state folder ${dir} is in use by another process: stop it, or give this one its own --state-dir`
          : `cannot open the RocksDB state in ${dir}: ${messageOf(err)}; if the folder is damaged, delete it (the state is restored from the latest snapshot)`,
        { cause: err },
      );
    }
    return new RocksDbStore(dir, native, db);
  }

  get db(): DbHandle {
    this.checkOpen();
    return this.#db;
  }

  checkOpen(): void {
    if (!this.#open) throw new StateStoreError('SLUICE_E_STATE_CLOSED', `the state store in ${this.dir} is closed`);
  }

  view(namespace: StateNamespace): RocksDbView {
    let byPartition = this.#views.get(namespace.operatorId);
    if (byPartition === undefined) this.#views.set(namespace.operatorId, (byPartition = new Map<number, RocksDbView>()));
    let view = byPartition.get(namespace.partition);
    if (view === undefined) byPartition.set(namespace.partition, (view = new RocksDbView(this, namespace)));
    return view;
  }

  batch(): StoreBatch {
    return new RocksDbBatch(this);
  }

  iterator(options: { gt?: Buffer; gte?: Buffer; lt: Buffer; limit?: number | undefined; fillCache: boolean }): IteratorHandle {
    const { limit, ...bounds } = options;
    return this.native.iterator_init(this.db, { ...bounds, ...(limit === undefined ? {} : { limit }), keyEncoding: 'buffer', valueEncoding: 'buffer' });
  }

  checkpoint(partitions: readonly number[]): StoreCheckpoint {
    // All iterators are created in one synchronous step, so they pin one and the same state.
    const iterators = new Map<number, IteratorHandle>();
    for (const partition of new Set(partitions)) iterators.set(partition, this.iterator({ ...partitionRange(partition), fillCache: false }));
    return new RocksDbCheckpoint(this, iterators);
  }

  dropPartition(partition: number): void {
    this.native.db_clear(this.db, partitionRange(partition));
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await new Promise<void>((resolve, reject) => this.native.db_close(this.#db, (err) => (err ? reject(err) : resolve())));
  }
}
