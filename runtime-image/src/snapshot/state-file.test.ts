// The state file format: entries survive any split of the bytes into chunks, and damage is caught.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreEntry } from '../state/store.js';
import { readStateFile, writeStateFile } from './state-file.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-state-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function* inChunksOf(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Entries with their values as hex digests: jest compares a multi-megabyte Buffer element by element, slowly. */
const digested = (list: StoreEntry[]): string[] => list.map((e) => `${e.operatorId} ${e.key} ${createHash('sha256').update(e.value).digest('hex')}`);

async function readAll(chunks: Iterable<Buffer>, summary: Parameters<typeof readStateFile>[1]): Promise<string[]> {
  const entries: StoreEntry[] = [];
  for await (const entry of readStateFile(chunks, summary, 'test.bin')) entries.push(entry);
  return digested(entries);
}

const entries: StoreEntry[] = [
  { operatorId: 'windows', key: 'alice', value: Buffer.from('{"count":1}') },
  { operatorId: 'windows', key: '', value: Buffer.alloc(0) },
  { operatorId: 'dédupe', key: 'tx-😀', value: Buffer.alloc(3 * 1024 * 1024, 7) },
];

it('reads back every entry whatever the chunks the bytes arrive in', async () => {
  const file = join(dir, 'a.bin');
  const summary = await writeStateFile(file, entries);
  const bytes = readFileSync(file);
  expect(summary).toMatchObject({ bytes: bytes.length, entries: 3 });

  for (const size of [1000, 64 * 1024, bytes.length]) {
    expect(await readAll(inChunksOf(bytes, size), summary)).toEqual(digested(entries));
  }
  const small = join(dir, 'small.bin');
  const smallSummary = await writeStateFile(small, entries.slice(0, 2));
  expect(await readAll(inChunksOf(readFileSync(small), 1), smallSummary)).toEqual(digested(entries.slice(0, 2)));
});

it('refuses a file that was cut short or does not match its summary', async () => {
  const file = join(dir, 'b.bin');
  const summary = await writeStateFile(file, entries.slice(0, 1));
  const bytes = readFileSync(file);

  await expect(readAll(inChunksOf(bytes.subarray(0, bytes.length - 2), 5), summary)).rejects.toThrow(/ends in the middle of an entry/);
  await expect(readAll(inChunksOf(bytes, 5), { ...summary, entries: 2 })).rejects.toThrow(/the manifest says/);
  await expect(readAll(inChunksOf(Buffer.from('not a state file at all'), 5), summary)).rejects.toThrow(/state file header/);
});
