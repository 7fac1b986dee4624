// A savepoint read and deleted by its own location on the real S3 server of the test environment, as the controller does.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import { deleteSnapshot, readSnapshotAt } from './by-location.js';
import { openSnapshotStorage } from './open-storage.js';
import { requireSnapshot } from './reader.js';
import type { S3Settings } from './s3-storage.js';
import { writeSnapshot, type WrittenSnapshot } from './writer.js';

const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = readEndpoints().s3;
const settings: S3Settings = { endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } };
const client = new S3Client({ endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } });
const bucket = `savepoints-${randomBytes(4).toString('hex')}`;
const stateDir = mkdtempSync(join(tmpdir(), 'sluice-by-location-'));
let store: RocksDbStore;

async function keys(prefix: string): Promise<string[]> {
  const { Contents } = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (Contents ?? []).map(({ Key }) => Key ?? '').sort();
}

/** A savepoint of two partitions under `s3://<bucket>/<prefix>`. */
async function savepoint(prefix: string, shared?: { id: string; writers: number; ordinal: number }): Promise<WrittenSnapshot> {
  const storage = openSnapshotStorage(`s3://${bucket}/${prefix}`, { s3: settings });
  try {
    const tasks = [0, 1].map((partition) => ({ partition, sourceOffset: 10, changelogOffset: 3, watermark: 1_700_000_000_000 }));
    return await writeSnapshot({
      storage,
      kind: 'savepoint',
      job: 'fraud',
      specHash: 'h',
      parallelism: 1,
      checkpoint: store.checkpoint([0, 1]),
      tasks,
      ...(shared === undefined ? {} : { shared }),
    });
  } finally {
    storage.close();
  }
}

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  store = await RocksDbStore.open(stateDir);
  const batch = store.batch();
  for (const partition of [0, 1]) batch.put({ operatorId: 'window', partition }, `customer-${partition}`, Buffer.from('{"n":1}'));
  batch.write();
});

afterAll(async () => {
  await openSnapshotStorage(`s3://${bucket}`, { s3: settings }).deleteAll('');
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
  await store.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('a snapshot by its own location', () => {
  it('reads the manifest of exactly that snapshot, and nothing for one that is missing or incomplete', async () => {
    const written = await savepoint('jobs/fraud/savepoints');
    expect((await readSnapshotAt(written.location, { s3: settings }))?.id).toBe(written.id);
    expect(await readSnapshotAt(`s3://${bucket}/jobs/fraud/savepoints/no-such-id`, { s3: settings })).toBeUndefined();
    // The parent holds a snapshot, yet it is not one: findSnapshot would take the newest under it, this does not.
    expect(await readSnapshotAt(`s3://${bucket}/jobs/fraud`, { s3: settings })).toBeUndefined();
    const half = await savepoint('jobs/fraud/savepoints', { id: 'shared-half', writers: 2, ordinal: 0 });
    expect(half.manifest).toBeUndefined();
    expect(await readSnapshotAt(half.location, { s3: settings })).toBeUndefined();
  });

  it('deletes a savepoint and only it, and a second delete does nothing', async () => {
    const kept = await savepoint('jobs/fraud/sp');
    const doomed = await savepoint('jobs/fraud/sp');
    // A sibling whose id starts with the doomed one's must survive: the delete is of a folder, not a key prefix.
    const sibling = await savepoint('jobs/fraud/sp', { id: `${doomed.id}-b`, writers: 1, ordinal: 0 });
    expect(await keys(`jobs/fraud/sp/${doomed.id}/`)).toHaveLength(4);

    await deleteSnapshot(doomed.location, { s3: settings });

    expect(await keys(`jobs/fraud/sp/${doomed.id}/`)).toEqual([]);
    await expect(requireSnapshot(doomed.location, {}, { s3: settings })).rejects.toMatchObject({ code: 'SLUICE_E_SNAPSHOT_MISSING' });
    expect((await readSnapshotAt(kept.location, { s3: settings }))?.id).toBe(kept.id);
    expect((await readSnapshotAt(sibling.location, { s3: settings }))?.id).toBe(sibling.id);
    await expect(deleteSnapshot(doomed.location, { s3: settings })).resolves.toBeUndefined();
  });

  it('deletes an incomplete savepoint too (a stop that failed half way)', async () => {
    const half = await savepoint('jobs/fraud/failed', { id: 'shared-failed', writers: 3, ordinal: 1 });
    expect(await keys('jobs/fraud/failed/shared-failed/')).not.toEqual([]);
    await deleteSnapshot(half.location, { s3: settings });
    expect(await keys('jobs/fraud/failed/shared-failed/')).toEqual([]);
  });

  it('refuses a location that holds more than one snapshot, and deletes nothing there', async () => {
    const inside = await savepoint('jobs/guarded/savepoints');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'jobs/guarded/notes.txt', Body: 'not a snapshot' }));
    await expect(deleteSnapshot(`s3://${bucket}/jobs/guarded`, { s3: settings })).rejects.toMatchObject({ code: 'SLUICE_E_NOT_A_SNAPSHOT' });
    expect((await readSnapshotAt(inside.location, { s3: settings }))?.id).toBe(inside.id);
    expect(await keys('jobs/guarded/notes.txt')).toEqual(['jobs/guarded/notes.txt']);
  });
});
