// The JSON-lines sink: one line per result, nothing before commit, append or truncate, stdout for "-".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLinesSink } from './sink.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-jsonl-sink-'));
let n = 0;
const path = (): string => join(dir, `out-${n++}.jsonl`);
const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const record = (value: Record<string, unknown>): { value: Record<string, unknown>; timestamp: number } => ({ value, timestamp: 0 });

test('results are written as one JSON line each, on commit, in write order', async () => {
  const out = path();
  const sink = new JsonLinesSink(out);
  expect(sink.write(record({ customer_id: 'C1', txn_count: 3 }))).toBeUndefined();
  expect(sink.write(record({ customer_id: 'C2', txn_count: 1, note: 'Zoë' }))).toBeUndefined();
  expect(read(out)).toBe('');
  await sink.commit();
  expect(read(out)).toBe('{"customer_id":"C1","txn_count":3}\n{"customer_id":"C2","txn_count":1,"note":"Zoë"}\n');
  sink.write(record({ customer_id: 'C1', txn_count: 4 }));
  await sink.close();
  expect(read(out).split('\n')).toHaveLength(4);
});

test('appends to an existing file unless told to truncate it', async () => {
  const out = path();
  writeFileSync(out, '{"old":true}\n');
  const appending = new JsonLinesSink(out);
  appending.write(record({ n: 1 }));
  await appending.close();
  expect(read(out)).toBe('{"old":true}\n{"n":1}\n');
  const truncating = new JsonLinesSink(out, { truncate: true });
  truncating.write(record({ n: 2 }));
  await truncating.close();
  expect(read(out)).toBe('{"n":2}\n');
});

test('many results between commits all arrive, in order', async () => {
  const out = path();
  const sink = new JsonLinesSink(out);
  for (let i = 0; i < 50_000; i++) sink.write(record({ i, pad: 'x'.repeat(40) }));
  await sink.commit();
  const lines = read(out).trimEnd().split('\n');
  expect(lines).toHaveLength(50_000);
  expect(lines.every((line, i) => (JSON.parse(line) as { i: number }).i === i)).toBe(true);
  await sink.close();
});

test('a result that is not JSON-serialisable becomes a dead letter', async () => {
  const sink = new JsonLinesSink(path());
  const bad = record({ big: 1n });
  expect(sink.write(bad)).toEqual({ reason: expect.stringContaining('cannot write the result as JSON') as unknown, record: bad });
  await sink.close();
});

test('a file that cannot be opened fails the commit with its path', async () => {
  const sink = new JsonLinesSink(join(dir, 'no-such-dir', 'out.jsonl'));
  sink.write(record({ a: 1 }));
  await expect(sink.commit()).rejects.toThrow('no-such-dir');
});

test('"-" writes to stdout', () => {
  const module = fileURLToPath(new URL('./sink.ts', import.meta.url));
  const script = `import { stdoutSink } from ${JSON.stringify(module)};
const sink = stdoutSink();
sink.write({ value: { a: 1 }, timestamp: 0 });
sink.write({ value: { b: 'two' }, timestamp: 0 });
await sink.close();
process.stderr.write('closed');`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.stderr).toContain('closed');
  expect(child.stdout).toBe('{"a":1}\n{"b":"two"}\n');
});
