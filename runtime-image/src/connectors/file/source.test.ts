// The JSON-lines source: line order and offsets, malformed lines as rejections, resuming, and awkward line endings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadOptions, SourceBatch } from '../source.js';
import { JsonLinesSource } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-jsonl-'));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `input-${n++}.jsonl`);
  writeFileSync(path, content);
  return path;
}

async function batches(path: string, read?: ReadOptions, batchSize?: number): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const batch of new JsonLinesSource(path, { batchSize }).read(read)) out.push(batch);
  return out;
}

test('one partition, records in line order, offset = 0-based line index', async () => {
  const path = file('{"a":1}\n{"a":2}\n{"a":3}\n');
  const source = new JsonLinesSource(path);
  expect(source.bounded).toBe(true);
  expect(await source.partitions()).toEqual([0]);
  const [batch, ...rest] = await batches(path);
  expect(rest).toEqual([]);
  expect(batch).toEqual({
    partition: 0,
    records: [
      { value: { a: 1 }, partition: 0, offset: 0 },
      { value: { a: 2 }, partition: 0, offset: 1 },
      { value: { a: 3 }, partition: 0, offset: 2 },
    ],
    rejected: [],
    next: 3,
  });
});

test('a malformed line is a rejection with its line number and text, and reading goes on', async () => {
  const path = file('{"a":1}\n{"a":\n[1,2]\n42\nnull\n{"a":6}\n');
  const [batch] = await batches(path);
  expect(batch!.records.map((r) => [r.offset, r.value])).toEqual([
    [0, { a: 1 }],
    [5, { a: 6 }],
  ]);
  expect(batch!.rejected.map((r) => [r.offset, r.raw.toString()])).toEqual([
    [1, '{"a":'],
    [2, '[1,2]'],
    [3, '42'],
    [4, 'null'],
  ]);
  const [invalid, array, number, nil] = batch!.rejected;
  expect(invalid!.reason).toMatch(new RegExp(`^${path} line 2: not valid JSON \\(.+\\); each line must hold one JSON object$`));
  expect(array!.reason).toBe(`${path} line 3: a JSON array, not an object; each line must hold one JSON object`);
  expect(number!.reason).toContain('a JSON number, not an object');
  expect(nil!.reason).toContain('a JSON null, not an object');
  expect(batch!.next).toBe(6);
});

test('blank lines take an offset but yield nothing; CRLF, a missing final newline and multi-byte text are read intact', async () => {
  const path = file('{"name":"Zoë 🚀"}\r\n\n   \r\n{"b":2}');
  const [batch] = await batches(path);
  expect(batch!.records.map((r) => [r.offset, r.value])).toEqual([
    [0, { name: 'Zoë 🚀' }],
    [3, { b: 2 }],
  ]);
  expect(batch!.rejected).toEqual([]);
});

test('lines longer than a read chunk, and characters split across chunks, survive', async () => {
  const long = 'é'.repeat(700_000);
  const path = file(`{"s":"${long}"}\n{"s":"x"}\n`);
  const [batch] = await batches(path);
  expect(batch!.records.map((r) => r.value.s)).toEqual([long, 'x']);
});

test('batches hold at most batchSize lines; resuming from an offset continues exactly there', async () => {
  const path = file(Array.from({ length: 10 }, (_, i) => (i === 4 ? 'oops' : JSON.stringify({ i }))).join('\n'));
  const all = await batches(path, {}, 3);
  expect(all.map((b) => b.records.length + b.rejected.length)).toEqual([3, 3, 3, 1]);
  expect(all.map((b) => b.next)).toEqual([3, 6, 9, 10]);
  const resumed = await batches(path, { from: { 0: 4 } }, 100);
  expect(resumed[0]!.rejected.map((r) => r.offset)).toEqual([4]);
  expect(resumed[0]!.records.map((r) => r.value.i)).toEqual([5, 6, 7, 8, 9]);
  expect(await batches(path, { partitions: [] })).toEqual([]);
});

test('an empty file yields nothing; a missing file fails with its path', async () => {
  expect(await batches(file(''))).toEqual([]);
  await expect(batches(join(dir, 'missing.jsonl'))).rejects.toThrow(`JSON-lines input ${join(dir, 'missing.jsonl')} does not exist; check the path`);
});
