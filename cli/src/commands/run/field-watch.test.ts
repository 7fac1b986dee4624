// streamctl run without a schema: a field no record holds is warned of by the step that reads it, and a run that dead-letters every record exits 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../../..');

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-run-fields-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function job(filter: string, sum = 'amount'): string {
  const file = join(dir, `job-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: sluice.dev/v1alpha1
kind: StreamJob
metadata:
  name: typo
spec:
  sources:
    - name: transactions
      file:
        path: transactions.jsonl
      eventTime:
        field: timestamp
        maxOutOfOrderness: 0s
  pipeline:
    - filter: ${JSON.stringify(filter)}
    - keyBy:
        field: customer_id
    - window:
        type: tumbling
        size: 5m
      aggregate:
        - name: total
          fn: sum
          field: ${sum}
  sinks:
    - name: out
      stdout: {}
`,
  );
  return file;
}

function input(records: object[]): string {
  const file = join(dir, `input-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
  return file;
}

/** streamctl run as a command, as a user runs it: its exit code and stderr. */
function streamctlRun(jobFile: string, inputFile: string): { code: number | null; stderr: string } {
  const state = join(dir, `state-${Math.random().toString(36).slice(2)}`);
  const ran = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/src/main.ts'), 'run', jobFile, '--input', inputFile, '--state-dir', state], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: ran.status, stderr: ran.stderr };
}

const transactions = Array.from({ length: 20 }, (_, i) => ({ customer_id: `c${i % 3}`, amount: 10 * i, timestamp: '2026-12-07T10:00:00Z' }));

describe('streamctl run watches the fields a job reads', () => {
  it('warns, one line per field naming the step, of a field that appears in no record read (a field guarded by has() excepted)', () => {
    const { stderr } = streamctlRun(job('has(self.review_id) || amont > 100.0', 'amuont'), input(transactions));
    const warnings = stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toEqual([
      'warning: field amont, read by spec.pipeline[0].filter, is in none of the first 20 records read; check its name against the input, or guard it with has(self.amont)',
      'warning: field amuont, read by spec.pipeline[2].aggregate[0].field, is in none of the first 20 records read; check its name against the input, or guard it with has(self.amuont)',
    ]);
  });

  it('exits 1 with a message when every record read was dead-lettered', () => {
    const { code, stderr } = streamctlRun(job('amont > 100.0'), input(transactions));
    expect(stderr).toContain(
      "streamctl run: every record read (20) was dead-lettered and no result came out: read the reasons above, then fix the job's fields or the input and run again",
    );
    expect(code).toBe(1);
  });
});
