// npm run demo's story end to end: streamctl run --top over generated transactions finds exactly the fraudsters the generator planted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { plantFraudsters } from '@sluice/runtime';
import { run } from './index.js';

const job = join(dirname(fileURLToPath(import.meta.url)), '../../../../examples/fraud-velocity/job.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

class Captured extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

test('over 12 minutes of transactions, the summary names the planted fraudsters and nobody else; the log has no escape codes', async () => {
  const stdout = new Captured(false);
  const stderr = new Captured(false);
  // 2 000 customers at 200 events/s, generated as fast as the job takes them (all of it is catch-up).
  const flags = { generator: 'transactions', seed: 3, keys: 2000, rate: 200, count: 200 * 60 * 12, since: '12m', top: 5, 'state-dir': join(scratch, 'state') };
  expect(await run({ job, ...flags }, { stdout, stderr })).toBe(0);
  const planted = plantFraudsters(3, 2000).map((fraudster) => fraudster.customerId);
  const summary = stderr.text.slice(stderr.text.indexOf('windows: '));
  const suspects = [...summary.matchAll(/^ {2}(C\d+): /gm)].map((match) => match[1]);
  expect(suspects.length).toBeGreaterThan(0);
  for (const suspect of suspects) expect(planted).toContain(suspect);
  expect(summary).toContain(`planted by the generator (seed 3, 2000 customers): ${planted[0]} (`);
  expect(summary).toContain('dead letters: none');
  // The last frame is always written: the newest window's top customers, as a plain line.
  expect(stdout.text).toMatch(/^fraud-velocity: window \S+ \S+ top txn_count C\d+=\d+/m);
  expect(stdout.text).not.toContain('\x1b');
});

test('stopped as Ctrl-C stops it (--duration takes the same path), the run prints the summary and returns 0', async () => {
  const stdout = new Captured(false);
  const stderr = new Captured(false);
  const flags = { generator: 'transactions', keys: 2000, rate: 200, since: '1m', duration: '2s', top: 5, 'state-dir': join(scratch, 'state-stopped') };
  expect(await run({ job, ...flags }, { stdout, stderr })).toBe(0);
  expect(stderr.text).toMatch(/^fraud-velocity: [\d,]+ records in/m);
  expect(stderr.text).toMatch(/^windows: \d+ closed/m);
  expect(stderr.text).toContain('dead letters: none');
});
