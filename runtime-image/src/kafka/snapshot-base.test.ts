// A snapshot only shortens a restore: when its storage cannot be read the partition restores from its whole changelog.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotStorage } from '../snapshot/storage.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import { restoreSnapshotBase } from './snapshot-base.js';

const unreachable = (): Promise<never> => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9000'));
const storageDown: SnapshotStorage = {
  location: 's3://state/job',
  write: unreachable,
  upload: unreachable,
  read: unreachable,
  stream: unreachable,
  folders: unreachable,
  list: unreachable,
  delete: unreachable,
  deleteAll: unreachable,
  close: () => undefined,
};

describe('restoring from the latest snapshot while its storage is down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-base-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replays the whole changelog instead, with the partition emptied first, and says so', async () => {
    const store = await RocksDbStore.open(dir);
    try {
      store.batch().put({ operatorId: 'velocity', partition: 0 }, 'c1', Buffer.from('stale')).write();
      const unreadable: number[] = [];
      const from = await restoreSnapshotBase({
        storage: storageDown,
        job: 'fraud',
        specHash: 'abc',
        store,
        partitions: [0],
        changelog: 'fraud-velocity-changelog',
        onUnreadable: (partition, error) => {
          expect(error.message).toMatch(/ECONNREFUSED/);
          unreadable.push(partition);
        },
      });
      expect(from.size).toBe(0);
      expect(unreadable).toEqual([0]);
      expect(store.view({ operatorId: 'velocity', partition: 0 }).get('c1')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
