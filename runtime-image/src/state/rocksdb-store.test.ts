// The RocksDB store on a real database in a temporary folder: namespaces, batches, scans, checkpoints.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageOf } from '../error-message.js';
import { RocksDbStore } from './rocksdb-store.js';
import type { StateStore } from './store.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const text = (value: Buffer | undefined): string | undefined => value?.toString('utf8');

describe('RocksDbStore', () => {
  let dir: string;
  let store: StateStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    store = await RocksDbStore.open(dir);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the same key apart across operators and partitions, including operator ids that prefix each other', () => {
    store
      .batch()
      .put({ operatorId: 'op', partition: 0 }, 'k', bytes('op/0'))
      .put({ operatorId: 'op', partition: 1 }, 'k', bytes('op/1'))
      .put({ operatorId: 'op2', partition: 0 }, 'k', bytes('op2/0'))
      .write();

    expect(text(store.view({ operatorId: 'op', partition: 0 }).get('k'))).toBe('op/0');
    expect(text(store.view({ operatorId: 'op', partition: 1 }).get('k'))).toBe('op/1');
    expect(text(store.view({ operatorId: 'op2', partition: 0 }).get('k'))).toBe('op2/0');
    expect([...store.view({ operatorId: 'op', partition: 0 }).scan()].map(([key, value]) => [key, text(value)])).toEqual([['k', 'op/0']]);
  });

  it('applies puts and deletes of a batch together, and reads many keys in one call', () => {
    const view = store.view({ operatorId: 'count', partition: 3 });
    store.batch().put(view.namespace, 'a', bytes('1')).put(view.namespace, 'b', bytes('2')).write();
    const batch = store.batch().delete(view.namespace, 'a').put(view.namespace, 'c', bytes('3'));
    expect(batch.length).toBe(2);
    expect(view.getMany(['a', 'c'])).toEqual([bytes('1'), undefined]);

    batch.write();

    expect(view.getMany(['a', 'b', 'c', 'zz']).map(text)).toEqual([undefined, '2', '3', undefined]);
    expect(() => batch.write()).toThrow(/already written/);
  });

  it('scans in key order, resumes after a key and stops at a limit, with keys in any script', () => {
    const view = store.view({ operatorId: 'w', partition: 0 });
    const batch = store.batch();
    for (const key of ['b', 'a', 'ü', 'c\u0000x', 'd']) batch.put(view.namespace, key, bytes(key));
    batch.write();

    expect([...view.scan()].map(([key]) => key)).toEqual(['a', 'b', 'c\u0000x', 'd', 'ü']);
    expect([...view.scan({ after: 'b', limit: 2 })].map(([key]) => key)).toEqual(['c\u0000x', 'd']);
  });

  it('pins a partition as it stood when the checkpoint was taken, while writes go on', () => {
    const first = { operatorId: 'a', partition: 5 };
    const second = { operatorId: 'b', partition: 5 };
    store.batch().put(first, 'x', bytes('1')).put(second, 'y', bytes('2')).put({ operatorId: 'a', partition: 6 }, 'x', bytes('other')).write();

    const checkpoint = store.checkpoint([5]);
    store.batch().put(first, 'x', bytes('changed')).put(first, 'new', bytes('3')).delete(second, 'y').write();

    expect([...checkpoint.entries(5)].map((e) => [e.operatorId, e.key, text(e.value)])).toEqual([
      ['a', 'x', '1'],
      ['b', 'y', '2'],
    ]);
    checkpoint.release();
    expect([...store.checkpoint([5]).entries(5)].map((e) => e.key)).toEqual(['new', 'x']);
  });

  it('drops one partition and nothing else', () => {
    store.batch().put({ operatorId: 'a', partition: 1 }, 'k', bytes('1')).put({ operatorId: 'a', partition: 2 }, 'k', bytes('2')).write();

    store.dropPartition(1);

    expect(store.view({ operatorId: 'a', partition: 1 }).get('k')).toBeUndefined();
    expect(text(store.view({ operatorId: 'a', partition: 2 }).get('k'))).toBe('2');
  });

  it('keeps written state across a reopen', async () => {
    store.batch().put({ operatorId: 'a', partition: 0 }, 'k', bytes('kept')).write();
    await store.close();

    store = await RocksDbStore.open(dir);

    expect(text(store.view({ operatorId: 'a', partition: 0 }).get('k'))).toBe('kept');
  });

  it('refuses a second opener of the same folder and says what to do', async () => {
    const refusal = await RocksDbStore.open(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toMatchObject({ code: 'SLUICE_E_STATE_LOCKED' });
    expect(messageOf(refusal)).toMatch(/--state-dir/);
  });

  it('refuses operator ids that would break the key layout', () => {
    expect(() => store.view({ operatorId: 'a\u0000b', partition: 0 })).toThrow(/U\+0000/);
    expect(() => store.view({ operatorId: 'a', partition: -1 })).toThrow(/partition -1/);
  });

  it('throws instead of reading a closed database', async () => {
    const view = store.view({ operatorId: 'a', partition: 0 });
    store.batch().put(view.namespace, 'k', bytes('1')).write();
    const scan = view.scan()[Symbol.iterator]();
    await store.close();

    expect(() => view.get('k')).toThrow(/closed/);
    expect(() => scan.next()).toThrow(/closed/);
  });
});
