// The file store on its own: one owner per folder, a torn last line survived, history compacted on open.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaKey, type LogRecord } from '../model.js';
import { RegistryState } from '../state.js';
import { FileStore } from './file.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-file-store-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const version = (subject: string, number: number, id: number, deleted = false): LogRecord => ({
  key: schemaKey(subject, number),
  value: { subject, version: number, id, schema: '"string"', deleted },
});

async function open(): Promise<{ store: FileStore; state: RegistryState }> {
  const state = new RegistryState();
  const store = new FileStore(directory);
  await store.open((record) => state.apply(record));
  return { store, state };
}

it('refuses a second registry on the same folder and names the holder', async () => {
  const { store } = await open();
  await expect(open()).rejects.toThrow(`in use by another registry (pid ${process.pid})`);
  await store.close();
  const again = await open();
  await again.store.close();
});

it('takes over a lock left by a process that is gone', async () => {
  writeFileSync(join(directory, 'schemas.lock'), '999999999');
  const { store } = await open();
  await store.close();
});

it('survives a torn last line and keeps appending after it', async () => {
  const first = await open();
  await first.store.append([version('a', 1, 1)]);
  await first.store.close();
  appendFileSync(join(directory, 'schemas.log'), '{"key":{"keytype":"SCHE');
  const second = await open();
  await second.store.append([version('b', 1, 1)]);
  await second.store.close();
  const third = await open();
  expect(third.state.versionsOf('a', true)).toHaveLength(1);
  expect(third.state.versionsOf('b', true)).toHaveLength(1);
  await third.store.close();
});

it('compacts to the last record per key and drops hard-deleted versions', async () => {
  const first = await open();
  await first.store.append([version('a', 1, 1), version('a', 2, 2), version('a', 2, 2, true)]);
  await first.store.append([{ key: schemaKey('a', 2), value: null }]);
  await first.store.close();
  const second = await open();
  expect(second.state.versionsOf('a', true).map((v) => v.version)).toEqual([1]);
  await second.store.close();
  expect(readFileSync(join(directory, 'schemas.log'), 'utf8').trim().split('\n')).toHaveLength(1);
});
