// Checkpoints and savepoints in a local folder: written from a real RocksDB, found, restored at another parallelism, retained.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RocksDbStore } from '../state/rocksdb-store.js';
import type { StateStore } from '../state/store.js';
import { LocalSnapshotStorage } from './local-storage.js';
import { childLocation, parseLocation, splitSnapshotLocation } from './location.js';
import { parseManifest, type SnapshotKind } from './manifest.js';
import { findSnapshot, latestSnapshot, listSnapshots, readSnapshot, restorePartition } from './reader.js';
import { applyRetention } from './retention.js';
import { writeSnapshot, type TaskPosition } from './writer.js';

const folders: string[] = [];
const stores: StateStore[] = [];

function folder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  folders.push(dir);
  return dir;
}

async function openStore(): Promise<StateStore> {
  const store = await RocksDbStore.open(folder('state'));
  stores.push(store);
  return store;
}

afterAll(async () => {
  for (const store of stores) await store.close();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** Each partition p holds `windows` and `dedupe` entries whose values name the partition. */
function fill(store: StateStore, partitions: readonly number[]): void {
  const batch = store.batch();
  for (const partition of partitions) {
    for (let i = 0; i < 3; i++) batch.put({ operatorId: 'windows', partition }, `customer-${i}`, Buffer.from(`p${partition}-w${i}`));
    batch.put({ operatorId: 'dedupe', partition }, 'tx-ü', Buffer.from(`p${partition}-d`));
  }
  batch.write();
}

function dump(store: StateStore, partition: number): string[] {
  const checkpoint = store.checkpoint([partition]);
  const lines = [...checkpoint.entries(partition)].map((e) => `${e.operatorId}/${e.key}=${e.value.toString()}`);
  checkpoint.release();
  return lines;
}

const positionOf = (partition: number): TaskPosition => ({
  partition,
  sourceOffset: 100 + partition,
  changelogOffset: 10 + partition,
  watermark: 1_700_000_000_000 + partition,
});

async function snapshotOf(
  store: StateStore,
  storage: LocalSnapshotStorage,
  partitions: number[],
  options: { kind?: SnapshotKind; at?: Date; parallelism?: number; shared?: { id: string; writers: number; ordinal: number } } = {},
) {
  return writeSnapshot({
    storage,
    kind: options.kind ?? 'checkpoint',
    job: 'fraud-velocity',
    specHash: 'sha256:abc',
    parallelism: options.parallelism ?? 1,
    checkpoint: store.checkpoint(partitions),
    tasks: partitions.map(positionOf),
    shared: options.shared,
    now: () => options.at ?? new Date(),
  });
}

describe('snapshot locations', () => {
  it('parses s3, file URLs and folder paths', () => {
    expect(parseLocation('s3://sluice-state/jobs/fraud/')).toEqual({ scheme: 's3', bucket: 'sluice-state', prefix: 'jobs/fraud' });
    expect(parseLocation('s3://sluice-state')).toEqual({ scheme: 's3', bucket: 'sluice-state', prefix: '' });
    expect(parseLocation('file:///var/sluice')).toEqual({ scheme: 'file', dir: '/var/sluice' });
    expect(parseLocation('/var/sluice')).toEqual({ scheme: 'file', dir: '/var/sluice' });
    expect(splitSnapshotLocation(childLocation(parseLocation('s3://b1b/jobs'), 'snap-1'))).toEqual({
      parent: { scheme: 's3', bucket: 'b1b', prefix: 'jobs' },
      id: 'snap-1',
    });
  });

  it('refuses what is not a location and says what is', () => {
    expect(() => parseLocation('s3://A_bucket/x')).toThrow(/s3:\/\/bucket\/prefix/);
    expect(() => parseLocation('https://example.com/x')).toThrow(/file:\/\/\/path or a folder path/);
  });
});

describe('snapshots in a local folder', () => {
  it('writes each partition state file, then a manifest with offsets, watermarks, sizes and checksums', async () => {
    const store = await openStore();
    fill(store, [0, 1]);
    const storage = new LocalSnapshotStorage(folder('snapshots'));

    const written = await snapshotOf(store, storage, [0, 1], { kind: 'savepoint', at: new Date('2025-03-01T10:00:00.000Z') });

    expect(written.location).toBe(join(storage.location, written.id));
    const manifest = parseManifest(readFileSync(join(written.location, 'manifest.json')), 'manifest.json');
    expect(manifest).toEqual(written.manifest);
    expect(manifest).toMatchObject({
      format: 1,
      kind: 'savepoint',
      job: 'fraud-velocity',
      specHash: 'sha256:abc',
      parallelism: 1,
      createdAt: '2025-03-01T10:00:00.000Z',
    });
    expect(
      manifest.partitions.map(({ partition, sourceOffset, changelogOffset, watermark, entries }) => ({
        partition,
        sourceOffset,
        changelogOffset,
        watermark,
        entries,
      })),
    ).toEqual([
      { partition: 0, sourceOffset: 100, changelogOffset: 10, watermark: 1_700_000_000_000, entries: 4 },
      { partition: 1, sourceOffset: 101, changelogOffset: 11, watermark: 1_700_000_000_001, entries: 4 },
    ]);
    for (const p of manifest.partitions) {
      expect(readFileSync(join(written.location, p.file)).length).toBe(p.bytes);
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('takes the state as it stood when pinned, though the job writes on while the files are written', async () => {
    const store = await openStore();
    fill(store, [0]);
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const before = dump(store, 0);
    const checkpoint = store.checkpoint([0]);
    store.batch().put({ operatorId: 'windows', partition: 0 }, 'customer-0', Buffer.from('later')).write();

    const written = await writeSnapshot({ storage, kind: 'checkpoint', job: 'j', specHash: 'h', parallelism: 1, checkpoint, tasks: [positionOf(0)] });
    const target = await openStore();
    await restorePartition({ storage, manifest: written.manifest!, partition: 0, store: target });

    expect(dump(target, 0)).toEqual(before);
  });

  it('restores a savepoint taken at parallelism 1 on three pods, each reading only its own partitions', async () => {
    const source = await openStore();
    const partitions = [0, 1, 2, 3, 4, 5];
    fill(source, partitions);
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const { manifest } = await snapshotOf(source, storage, partitions, { kind: 'savepoint' });

    for (let pod = 0; pod < 3; pod++) {
      const store = await openStore();
      const own = partitions.filter((p) => p % 3 === pod);
      const positions = [];
      for (const partition of own) positions.push(await restorePartition({ storage, manifest: manifest!, partition, store }));

      expect(positions).toEqual(own.map(positionOf));
      for (const partition of own) expect(dump(store, partition)).toEqual(dump(source, partition));
      for (const partition of partitions.filter((p) => p % 3 !== pod)) expect(dump(store, partition)).toEqual([]);
    }
  });

  it('replaces whatever state the partition had when it restores', async () => {
    const source = await openStore();
    fill(source, [2]);
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const { manifest } = await snapshotOf(source, storage, [2]);
    const target = await openStore();
    target.batch().put({ operatorId: 'stale', partition: 2 }, 'k', Buffer.from('old')).write();

    await restorePartition({ storage, manifest: manifest!, partition: 2, store: target });

    expect(dump(target, 2)).toEqual(dump(source, 2));
  });

  it('shows a snapshot written by several pods only once every pod has written its part', async () => {
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const pods = [await openStore(), await openStore()];
    fill(pods[0]!, [0, 2]);
    fill(pods[1]!, [1, 3]);
    const shared = (ordinal: number) => ({ id: 'savepoint-upgrade-7', writers: 2, ordinal });

    const first = await snapshotOf(pods[1]!, storage, [1, 3], { kind: 'savepoint', parallelism: 2, shared: shared(1) });
    expect(first.manifest).toBeUndefined();
    expect(await readSnapshot(storage, 'savepoint-upgrade-7')).toBeUndefined();
    expect(await listSnapshots(storage)).toEqual([]);

    const last = await snapshotOf(pods[0]!, storage, [0, 2], { kind: 'savepoint', parallelism: 2, shared: shared(0) });

    expect(last.manifest?.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    expect((await latestSnapshot(storage))?.id).toBe('savepoint-upgrade-7');
  });

  it('finds the newest complete snapshot, by kind and by partition, and from a snapshot’s own location', async () => {
    const store = await openStore();
    fill(store, [0, 1]);
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const old = await snapshotOf(store, storage, [0, 1], { at: new Date('2025-01-01T00:00:00Z') });
    const onlyOne = await snapshotOf(store, storage, [1], { at: new Date('2025-01-02T00:00:00Z') });
    const savepoint = await snapshotOf(store, storage, [0], { kind: 'savepoint', at: new Date('2025-01-03T00:00:00Z') });

    expect((await latestSnapshot(storage))?.id).toBe(savepoint.id);
    expect((await latestSnapshot(storage, { kind: 'checkpoint' }))?.id).toBe(onlyOne.id);
    expect((await latestSnapshot(storage, { kind: 'checkpoint', partition: 0 }))?.id).toBe(old.id);
    expect((await listSnapshots(storage)).map((m) => m.id)).toEqual([savepoint.id, onlyOne.id, old.id]);

    const own = await findSnapshot(old.location);
    const newest = await findSnapshot(`file://${storage.location}`, { kind: 'checkpoint' });
    own?.storage.close();
    newest?.storage.close();
    expect(own?.manifest.id).toBe(old.id);
    expect(newest?.manifest.id).toBe(onlyOne.id);
    expect(await findSnapshot(folder('empty'))).toBeUndefined();
  });

  it('keeps a watermark of −∞ or +∞', async () => {
    const store = await openStore();
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const { manifest } = await writeSnapshot({
      storage,
      kind: 'checkpoint',
      job: 'j',
      specHash: 'h',
      parallelism: 1,
      checkpoint: store.checkpoint([0, 1]),
      tasks: [
        { partition: 0, sourceOffset: 0, changelogOffset: null, watermark: Number.NEGATIVE_INFINITY },
        { partition: 1, sourceOffset: 9, changelogOffset: null, watermark: Number.POSITIVE_INFINITY },
      ],
    });

    const read = await readSnapshot(storage, manifest!.id);
    expect(read?.partitions.map((p) => [p.watermark, p.entries])).toEqual([
      [Number.NEGATIVE_INFINITY, 0],
      [Number.POSITIVE_INFINITY, 0],
    ]);
  });

  it('refuses a damaged state file and leaves the partition empty rather than half restored', async () => {
    const source = await openStore();
    fill(source, [0]);
    const storage = new LocalSnapshotStorage(folder('snapshots'));
    const { manifest, location } = await snapshotOf(source, storage, [0]);
    const file = join(location, manifest!.partitions[0]!.file);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(file, bytes);
    const target = await openStore();

    await expect(restorePartition({ storage, manifest: manifest!, partition: 0, store: target })).rejects.toMatchObject({ code: 'SLUICE_E_SNAPSHOT_DAMAGED' });
    expect(dump(target, 0)).toEqual([]);
    await expect(restorePartition({ storage, manifest: manifest!, partition: 7, store: target })).rejects.toThrow(/holds no state for partition 7/);
  });

  describe('retention', () => {
    const day = 86_400_000;
    const at = (days: number): Date => new Date(Date.UTC(2025, 0, 1) + days * day);

    it('keeps the newest N of each partition, so pods that checkpoint on their own each keep theirs', async () => {
      const store = await openStore();
      fill(store, [0, 1]);
      const storage = new LocalSnapshotStorage(folder('snapshots'));
      const pod0 = [];
      for (let d = 0; d < 3; d++) pod0.push((await snapshotOf(store, storage, [0], { at: at(d), parallelism: 2 })).id);
      const pod1 = (await snapshotOf(store, storage, [1], { at: at(-5), parallelism: 2 })).id;
      const savepoint = (await snapshotOf(store, storage, [0], { kind: 'savepoint', at: at(-9) })).id;

      const deleted = await applyRetention(storage, { kind: 'checkpoint', count: 2, now: at(3) });

      expect(deleted).toEqual([pod0[0]]);
      expect((await listSnapshots(storage)).map((m) => m.id).sort()).toEqual([pod0[1], pod0[2], pod1, savepoint].sort());
    });

    it('deletes snapshots older than the age, but never the newest of a partition', async () => {
      const store = await openStore();
      fill(store, [0]);
      const storage = new LocalSnapshotStorage(folder('snapshots'));
      const ids = [];
      for (const d of [0, 1, 2]) ids.push((await snapshotOf(store, storage, [0], { kind: 'savepoint', at: at(d) })).id);

      expect((await applyRetention(storage, { kind: 'savepoint', count: 5, maxAgeMs: 1.5 * day, now: at(2.5) })).sort()).toEqual([ids[0]]);
      expect(await applyRetention(storage, { kind: 'savepoint', maxAgeMs: day, now: at(30) })).toEqual([ids[1]]);
      expect((await listSnapshots(storage)).map((m) => m.id)).toEqual([ids[2]]);
    });

    it('deletes a snapshot a writer abandoned half way, once it has been untouched long enough', async () => {
      const store = await openStore();
      fill(store, [0, 1]);
      const storage = new LocalSnapshotStorage(folder('snapshots'));
      const { id } = await snapshotOf(store, storage, [0], { kind: 'savepoint', parallelism: 2, shared: { id: 'sp-abandoned', writers: 2, ordinal: 0 } });
      const now = new Date();

      expect(await applyRetention(storage, { kind: 'savepoint', now })).toEqual([]);
      for (const object of await storage.list(id))
        utimesSync(join(storage.location, object.path), new Date(now.getTime() - 2 * 3_600_000), new Date(now.getTime() - 2 * 3_600_000));
      expect(await applyRetention(storage, { kind: 'checkpoint', now })).toEqual([]);
      expect(await applyRetention(storage, { kind: 'savepoint', now })).toEqual([id]);
      expect(await storage.list(id)).toEqual([]);
    });
  });
});
