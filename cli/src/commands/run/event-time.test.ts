// streamctl run on a file with records whose event time is not a time, or is one no clock could have written: they are dead-lettered, the windows are untouched.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const job = join(root, 'examples/fraud-velocity/job.yaml');
const sample = readFileSync(join(root, 'examples/fraud-velocity/sample.jsonl'), 'utf8').trimEnd().split('\n');

/** Event times from the issue: each became a time under Date.parse, and each moved the watermark or crashed the run. */
const BAD_TIMES = ['99999', '+275760-09-13T00:00:00.000Z', '2025-12-05 10:20:00', '1', 'Dec 5', '12/05/2025', '2025', '9999-12-31T23:59:59Z'];
const badRecord = (timestamp: string, i: number): string =>
  JSON.stringify({ transaction_id: `bad-${i}`, customer_id: 'C123', merchant_id: 'M456', amount: 1000, currency: 'NZD', timestamp });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-event-time-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): unknown[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);

async function runOn(name: string, records: readonly string[]): Promise<{ code: number; results: unknown[]; late: unknown[]; dead: unknown[] }> {
  const input = join(dir, `${name}.jsonl`);
  writeFileSync(input, `${records.join('\n')}\n`);
  const file = (kind: string) => join(dir, `${name}-${kind}.jsonl`);
  const code = await run({ job, input, output: file('out'), 'late-output': file('late'), 'dead-letter-output': file('dead'), 'state-dir': file('state') });
  return { code, results: lines(file('out')), late: lines(file('late')), dead: lines(file('dead')) };
}

describe('streamctl run with records whose event time cannot be trusted', () => {
  it('gives the same windows and late records as without them, and dead-letters each with its reason', async () => {
    const clean = await runOn('clean', sample);
    // The bad records come early, where a watermark pushed ahead would make every later record late.
    const withBad = await runOn('with-bad', [...sample.slice(0, 3), ...BAD_TIMES.map(badRecord), ...sample.slice(3)]);
    expect(clean.code).toBe(0);
    expect(withBad.code).toBe(0);
    expect(clean.results).toHaveLength(12);
    expect(withBad.results).toEqual(clean.results);
    expect(withBad.late).toEqual(clean.late);
    expect(withBad.dead).toEqual(
      BAD_TIMES.map((timestamp, i) => ({
        reason: expect.stringMatching(
          timestamp.startsWith('9999-') ? /past the wall clock/ : /^the event time field timestamp is .*, not an ISO-8601 time: /,
        ) as unknown,
        record: JSON.parse(badRecord(timestamp, i)) as unknown,
      })),
    );
  });

  it('runs to the end of a file holding only +275760-09-13T00:00:00.000Z, the last time a Date can hold, and dead-letters it', async () => {
    const lastDate = await runOn('last-date', [badRecord('+275760-09-13T00:00:00.000Z', 0)]);
    // Not a crash: the run ends as any run whose every record was dead-lettered does, with exit code 1 saying so.
    expect(lastDate.code).toBe(1);
    expect(lastDate.results).toEqual([]);
    expect(lastDate.dead).toEqual([
      { reason: expect.stringMatching(/signed year/) as unknown, record: JSON.parse(badRecord('+275760-09-13T00:00:00.000Z', 0)) as unknown },
    ]);
  });
});
