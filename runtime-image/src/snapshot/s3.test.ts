// Snapshots on the real S3 server of the test environment: written, found, restored at another parallelism, retained.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import type { StateStore } from '../state/store.js';
import { parseManifest } from './manifest.js';
import { openSnapshotStorage } from './open-storage.js';
import { findSnapshot, latestSnapshot, listSnapshots, restorePartition } from './reader.js';
import { applyRetention } from './retention.js';
import type { S3Settings } from './s3-storage.js';
import type { SnapshotStorage } from './storage.js';
import { writeSnapshot, type TaskPosition } from './writer.js';

const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = readEndpoints().s3;
const settings: S3Settings = { endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } };
const client = new S3Client({ endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } });
const bucket = `snapshots-${randomBytes(4).toString('hex')}`;
const folders: string[] = [];
const stores: StateStore[] = [];
let storage: SnapshotStorage;

async function openStore(): Promise<StateStore> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s3-state-'));
  folders.push(dir);
  const store = await RocksDbStore.open(dir);
  stores.push(store);
  return store;
}

async function keys(prefix: string): Promise<string[]> {
  const { Contents } = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (Contents ?? []).map(({ Key }) => Key ?? '').sort();
}

function dump(store: StateStore, partition: number): string[] {
  const checkpoint = store.checkpoint([partition]);
  const lines = [...checkpoint.entries(partition)].map((e) => `${e.operatorId}/${e.key}=${e.value.toString()}`);
  checkpoint.release();
  return lines;
}

const positionOf = (partition: number): TaskPosition => ({
  partition,
  sourceOffset: 1_000 + partition,
  changelogOffset: 50 + partition,
  watermark: 1_700_000_000_000,
});

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  storage = openSnapshotStorage(`s3://${bucket}/jobs/fraud-velocity`, { s3: settings });
});

afterAll(async () => {
  // Empties the bucket even when a test failed half way, so the server's folder does not fill up between runs.
  await openSnapshotStorage(`s3://${bucket}`, { s3: settings }).deleteAll('');
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  storage.close();
  client.destroy();
  for (const store of stores) await store.close();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('snapshots on S3', () => {
  it('writes the state files and then the manifest under the prefix, and restores at parallelism 3 what parallelism 1 saved', async () => {
    const source = await openStore();
    const partitions = [0, 1, 2, 3, 4, 5];
    const batch = source.batch();
    for (const partition of partitions) {
      for (let i = 0; i < 200; i++) batch.put({ operatorId: 'windows', partition }, `customer-${i}`, Buffer.from(`{"p":${partition},"i":${i}}`));
    }
    batch.write();

    const written = await writeSnapshot({
      storage,
      kind: 'savepoint',
      job: 'fraud-velocity',
      specHash: 'sha256:1',
      parallelism: 1,
      checkpoint: source.checkpoint(partitions),
      tasks: partitions.map(positionOf),
    });

    expect(written.location).toBe(`s3://${bucket}/jobs/fraud-velocity/${written.id}`);
    expect(await keys(`jobs/fraud-velocity/${written.id}/`)).toEqual([
      `jobs/fraud-velocity/${written.id}/manifest.json`,
      `jobs/fraud-velocity/${written.id}/parts/0.json`,
      ...partitions.map((p) => `jobs/fraud-velocity/${written.id}/state/partition-0000${p}.bin`),
    ]);
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `jobs/fraud-velocity/${written.id}/manifest.json` }));
    const manifest = parseManifest(Buffer.from(await Body!.transformToByteArray()), 'manifest.json');
    expect(manifest.partitions.map((p) => [p.partition, p.entries, p.sourceOffset])).toEqual(partitions.map((p) => [p, 200, 1_000 + p]));

    const found = await findSnapshot(written.location, {}, { s3: settings });
    found?.storage.close();
    expect(found?.manifest).toEqual(manifest);

    for (let pod = 0; pod < 3; pod++) {
      const store = await openStore();
      for (const partition of partitions.filter((p) => p % 3 === pod)) {
        expect(await restorePartition({ storage, manifest, partition, store })).toEqual(positionOf(partition));
        expect(dump(store, partition)).toEqual(dump(source, partition));
      }
    }
  });

  it('uploads a state file larger than one multipart part', async () => {
    const source = await openStore();
    const big = randomBytes(1024 * 1024);
    const batch = source.batch();
    for (let i = 0; i < 20; i++) batch.put({ operatorId: 'blobs', partition: 9 }, `blob-${i}`, big);
    batch.write();

    const { manifest } = await writeSnapshot({
      storage,
      kind: 'checkpoint',
      job: 'big',
      specHash: 'h',
      parallelism: 1,
      checkpoint: source.checkpoint([9]),
      tasks: [positionOf(9)],
    });
    const target = await openStore();
    await restorePartition({ storage, manifest: manifest!, partition: 9, store: target });

    expect(manifest!.partitions[0]!.bytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(target.view({ operatorId: 'blobs', partition: 9 }).get('blob-19')?.equals(big)).toBe(true);
  });

  it('finds the latest complete checkpoint of a partition and deletes what retention drops', async () => {
    const store = await openStore();
    store.batch().put({ operatorId: 'w', partition: 0 }, 'k', Buffer.from('v')).write();
    const jobStorage = openSnapshotStorage(`s3://${bucket}/retention`, { s3: settings });
    const ids: string[] = [];
    for (let day = 1; day <= 4; day++) {
      const { id } = await writeSnapshot({
        storage: jobStorage,
        kind: 'checkpoint',
        job: 'j',
        specHash: 'h',
        parallelism: 1,
        checkpoint: store.checkpoint([0]),
        tasks: [positionOf(0)],
        now: () => new Date(Date.UTC(2025, 0, day)),
      });
      ids.push(id);
    }

    expect((await latestSnapshot(jobStorage, { kind: 'checkpoint', partition: 0 }))?.id).toBe(ids[3]);
    expect((await applyRetention(jobStorage, { kind: 'checkpoint', count: 2, now: new Date(Date.UTC(2025, 0, 5)) })).sort()).toEqual([ids[0], ids[1]].sort());
    expect((await listSnapshots(jobStorage)).map((m) => m.id)).toEqual([ids[3], ids[2]]);
    expect(await keys(`retention/${ids[0]}/`)).toEqual([]);
    jobStorage.close();
  });
});
