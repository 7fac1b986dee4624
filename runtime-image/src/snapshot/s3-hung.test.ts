// Snapshot storage on an S3 server that stops answering (SIGSTOP): every request ends within its bounds, naming the endpoint, and works again once S3 answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { envPaths } from '../../../test/env/src/proc.js';
import { s3Client, startPrivateS3, type PrivateS3 } from '../../../test/env/src/s3.js';
import { freezable, pidOf, type Freezable } from '../../../test/faults/stuck-harness.js';
import { openSnapshotStorage } from './open-storage.js';
import type { SnapshotStorage } from './storage.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-s3-hung-'));
let s3: PrivateS3;
let server: Freezable;
let storage: SnapshotStorage;

beforeAll(async () => {
  s3 = await startPrivateS3(envPaths(), join(dir, 's3'));
  server = freezable(pidOf(['versitygw', new URL(s3.endpoint.endpoint).host]));
  const client = s3Client(s3.endpoint);
  await client.send(new CreateBucketCommand({ Bucket: 'snapshots' }));
  client.destroy();
  const { endpoint, region, forcePathStyle, accessKeyId, secretAccessKey } = s3.endpoint;
  storage = openSnapshotStorage('s3://snapshots/hung', {
    s3: { endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey }, timeouts: { connectMs: 1_000, idleMs: 1_000, attempts: 2 } },
  });
});

afterAll(async () => {
  server.thaw();
  storage.close();
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('writes, uploads, reads and listings of a frozen S3 time out with the endpoint in the error, and succeed once it answers', async () => {
  const file = join(dir, 'state.bin');
  writeFileSync(file, Buffer.alloc(64 * 1024, 7));
  await storage.write('before/part', Buffer.from('1'));
  const timedOut = (action: string, key: string) => ({
    code: 'SLUICE_E_SNAPSHOT_S3_TIMEOUT',
    message: expect.stringContaining(`${action} s3://snapshots/hung/${key} at ${s3.endpoint.endpoint} timed out 2 times`) as unknown,
  });
  server.freeze();
  try {
    await expect(storage.write('during/part', Buffer.from('2'))).rejects.toMatchObject(timedOut('writing', 'during/part'));
    await expect(storage.upload('during/state.bin', file)).rejects.toMatchObject(timedOut('uploading', 'during/state.bin'));
    await expect(storage.read('before/part')).rejects.toMatchObject(timedOut('reading', 'before/part'));
    await expect(storage.folders('')).rejects.toMatchObject({ code: 'SLUICE_E_SNAPSHOT_S3_TIMEOUT' });
  } finally {
    server.thaw();
  }
  await storage.upload('after/state.bin', file);
  expect((await storage.read('after/state.bin'))?.length).toBe(64 * 1024);
  expect(await storage.folders('')).toEqual(expect.arrayContaining(['before', 'after']));
});
