import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateFiles } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const examples = readdirSync(join(root, 'examples')).flatMap((example) =>
  readdirSync(join(root, 'examples', example))
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => join(root, 'examples', example, file)),
);

/** A job the schema takes in part and the compiler refuses in part: each problem is reported once, by field. */
const badJob = `apiVersion: sluice.dev/v1alpha1
kind: StreamJob
metadata:
  name: bad
spec:
  sources:
    - name: transactions
      kafka:
        topic: transactions
      eventTime:
        field: timestamp
        maxOutOfOrderness: 30s
  pipeline:
    - filter: amount >
    - keyBy:
        field: customer_id
    - window:
        type: tumbling
        size: five minutes
      aggregate:
        - name: n
          fn: count
    - dedupe:
        key: transaction_id
        within: 1h
  sinks:
    - name: lake
      s3:
        bucket: features
`;

const scratches: string[] = [];

function writeBadJob(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
  scratches.push(dir);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, badJob);
  return file;
}

afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

/** A job the API server refuses on three fields by CEL rules the job compiler also enforces, in its own words. */
const refusedTwice = `apiVersion: sluice.dev/v1alpha1
kind: StreamJob
metadata:
  name: twice
spec:
  sources:
    - name: transactions
      kafka:
        topic: transactions
      generator:
        workload: transactions
  pipeline:
    - keyBy:
        field: customer_id
    - window:
        type: sliding
        size: 5m
  sinks:
    - name: out
      stdout: {}
`;

describe('streamctl validate', () => {
  it('finds nothing wrong with the examples', () => {
    expect(validateFiles(examples)).toEqual([]);
  });

  it('reports the API server errors, then what the job compiler refuses, each naming its field once', () => {
    const file = writeBadJob();
    expect(validateFiles([file])).toEqual([
      `${file} StreamJob/bad: spec.pipeline[2].window.size: Invalid value: "five minutes": spec.pipeline[2].window.size in body should match '^([0-9]{1,4}d)?([0-9]{1,5}h)?([0-9]{1,6}m)?([0-9]{1,7}s)?([0-9]{1,9}ms)?$'`,
      `${file} StreamJob/bad: spec.pipeline[0].filter: is not valid CEL: Unexpected token: EOF (column 9)`,
      `${file} StreamJob/bad: spec.pipeline[3].dedupe: dedupe arrives in a later release of Sluice; the engine runs filter, map, flatMap, keyBy and window steps today`,
    ]);
  });

  it("reports a field the API server refused once, not again in the job compiler's words", () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
    scratches.push(dir);
    const file = join(dir, 'twice.yaml');
    writeFileSync(file, refusedTwice);
    const paths = validateFiles([file]).map((line) => line.split(': ')[0]);
    expect(paths).toEqual([`${file} StreamJob/twice`, `${file} StreamJob/twice`, `${file} StreamJob/twice`]);
    expect(validateFiles([file]).map((line) => line.split(': ')[1])).toEqual([
      'spec.sources[0]',
      'spec.pipeline[1].aggregate',
      'spec.pipeline[1].window.slide',
    ]);
  });

  it('as a command, exits 1 with the problems on stderr, and 0 for the examples', () => {
    const streamctl = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/src/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
    const bad = streamctl('validate', writeBadJob());
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('spec.pipeline[3].dedupe: dedupe arrives in a later release of Sluice');
    expect(bad.stderr).toContain('3 problem(s) found; fix the fields named above and run streamctl validate again');
    const good = streamctl('validate', ...examples);
    expect(good.stderr).toBe('');
    expect(good.stdout).toBe(`${examples.length} file(s) valid\n`);
    expect(good.status).toBe(0);
  });
});
