import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const examples = readdirSync(join(root, 'examples')).filter((example) => existsSync(join(root, 'examples', example, 'expected.jsonl')));

const lines = (file: string): unknown[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);

const scratches: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-'));
  scratches.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

/** The example's inputs: sample.jsonl for its stream, and <name>.jsonl for each further source (the tables it joins). */
function inputsOf(example: string): string[] {
  const dir = join(root, 'examples', example);
  const job = parseAllDocuments(readFileSync(join(dir, 'job.yaml'), 'utf8'))[0]!.toJS() as { spec: { sources: { name: string }[] } };
  const [stream, ...tables] = job.spec.sources;
  return [`${stream!.name}=${join(dir, 'sample.jsonl')}`, ...tables.map(({ name }) => `${name}=${join(dir, `${name}.jsonl`)}`)];
}

async function runExample(example: string, dir: string, name = 'out.jsonl'): Promise<string> {
  const output = join(dir, name);
  const code = await run({
    job: join(root, 'examples', example, 'job.yaml'),
    input: inputsOf(example),
    output,
    'late-output': join(dir, `late-${name}`),
    'state-dir': join(dir, `state-${name}`),
  });
  expect(code).toBe(0);
  return output;
}

describe('streamctl run on the examples', () => {
  it.each(examples)('%s: the sample gives the hand-computed results, in emission order, updates included', async (example) => {
    const output = await runExample(example, scratch());
    const actual = lines(output);
    const expected = lines(join(root, 'examples', example, 'expected.jsonl'));
    expect(actual).toEqual(expected);
  });

  it.each(examples)('%s: replaying the same file twice gives byte-identical output', async (example) => {
    const dir = scratch();
    const first = readFileSync(await runExample(example, dir, 'first.jsonl'), 'utf8');
    const second = readFileSync(await runExample(example, dir, 'second.jsonl'), 'utf8');
    expect(second).toBe(first);
    expect(first).not.toBe('');
  });

  it('fraud-velocity sends the 11-minutes-late transaction to the late output', async () => {
    const dir = scratch();
    await runExample('fraud-velocity', dir);
    expect(lines(join(dir, 'late-out.jsonl'))).toEqual([expect.objectContaining({ transaction_id: 'tx-0021', amount: 500 })]);
  });

  it('dead-letters malformed lines and records without an event time, with the reason, and goes on', async () => {
    const dir = scratch();
    const input = join(dir, 'input.jsonl');
    const good = '{"customer_id":"C1","amount":5,"timestamp":"2025-12-05T10:00:00Z"}';
    writeFileSync(input, `${good}\nnot json\n{"customer_id":"C1","amount":5}\n[1]\n${good}\n`);
    const code = await run({
      job: join(root, 'examples/fraud-velocity/job.yaml'),
      input,
      output: join(dir, 'out.jsonl'),
      'dead-letter-output': join(dir, 'dead.jsonl'),
      'state-dir': join(dir, 'state'),
    });
    expect(code).toBe(0);
    expect(lines(join(dir, 'out.jsonl'))).toEqual([
      { customer_id: 'C1', window_start: '2025-12-05T10:00:00.000Z', window_end: '2025-12-05T10:05:00.000Z', txn_count: 2, txn_sum: 10 },
    ]);
    expect(lines(join(dir, 'dead.jsonl'))).toEqual([
      { reason: expect.stringMatching(/^.*input\.jsonl line 2: not valid JSON \(.*\); each line must hold one JSON object$/) as unknown, raw: 'not json' },
      { reason: 'the event time field timestamp is missing, not an ISO-8601 time such as 2025-12-05T10:23:15Z', record: { customer_id: 'C1', amount: 5 } },
      { reason: expect.stringMatching(/input\.jsonl line 4: a JSON array, not an object; each line must hold one JSON object$/) as unknown, raw: '[1]' },
    ]);
  });

  it('refuses a job with problems before it runs, and a Kafka job without --input or --generator', async () => {
    const dir = scratch();
    const job = join(dir, 'job.yaml');
    writeFileSync(job, readFileSync(join(root, 'examples/fraud-velocity/job.yaml'), 'utf8').replace('size: 5m', 'size: 5 minutes'));
    expect(await run({ job, input: join(root, 'examples/fraud-velocity/sample.jsonl') })).toBe(1);
    await expect(run({ job: join(root, 'examples/fraud-velocity/job.yaml') })).rejects.toThrow(
      'spec.sources[0] reads the Kafka topic transactions; streamctl run reads --input FILE.jsonl or --generator transactions in its place',
    );
  });
});

describe('streamctl run with several inputs (a job with joins)', () => {
  const example = (file: string) => join(root, 'examples/transaction-enrichment', file);
  const job = example('job.yaml');

  it('names the sources when --input names one the job does not have, or a table has no input', async () => {
    await expect(run({ job, input: [`transactions=${example('sample.jsonl')}`, `accounts=${example('customers.jsonl')}`] })).rejects.toThrow(
      `--input accounts=${example('customers.jsonl')}: the job has no source accounts; its sources are transactions, customers, merchants (--input NAME=FILE)`,
    );
    await expect(run({ job, input: example('sample.jsonl') })).rejects.toThrow(
      'the table customers reads the Kafka topic customers; streamctl run reads --input customers=FILE.jsonl in its place (one {"key": ..., "value": {...}} a line)',
    );
  });

  it("refuses a co-partitioned table whose partition count is not the stream's", async () => {
    const dir = scratch();
    const joinOnly = join(dir, 'job.yaml');
    // The example without its keyBy and window: generated transactions in 2 partitions, the customers file in 1.
    writeFileSync(joinOnly, readFileSync(job, 'utf8').replace(/ {4}- keyBy:[\s\S]*? {2}sinks:/, '  sinks:'));
    const input = [`customers=${example('customers.jsonl')}`, `merchants=${example('merchants.jsonl')}`];
    await expect(run({ job: joinOnly, input, generator: 'transactions', count: 10, rate: 0, parallelism: 2, output: join(dir, 'out.jsonl') })).rejects.toThrow(
      'the join with-customer reads the table customers co-partitioned with the stream, but the table has 1 partition(s) and the stream 2: task p holds table partition p, so give both the same partition count, or set broadcast: true on the join for a table every task holds whole',
    );
  });

  it('dead-letters table lines that are not {key, value} messages, and keeps the table position in a savepoint', async () => {
    const dir = scratch();
    const customers = join(dir, 'customers.jsonl');
    writeFileSync(customers, `${readFileSync(example('customers.jsonl'), 'utf8')}{"customer_id":"C9","tier":"gold"}\n`);
    const input = [`transactions=${example('sample.jsonl')}`, `customers=${customers}`, `merchants=${example('merchants.jsonl')}`];
    const first = {
      job,
      input,
      output: join(dir, 'first.jsonl'),
      'dead-letter-output': join(dir, 'dead.jsonl'),
      'state-dir': join(dir, 'state-1'),
      'savepoint-dir': join(dir, 'savepoints'),
    };
    expect(await run(first)).toBe(0);
    expect(lines(join(dir, 'first.jsonl'))).toEqual(lines(example('expected.jsonl')));
    expect(lines(join(dir, 'dead.jsonl'))).toEqual([
      {
        reason: `${customers} line 7: has no key field; a table line is {"key": "C1", "value": {...}}, or {"key": "C1", "value": null} to delete C1`,
        record: { customer_id: 'C9', tier: 'gold' },
      },
    ]);
    // Restored, the tables are read from where the savepoint's state says they stopped: the bad line is not read again.
    const again = {
      ...first,
      output: join(dir, 'again.jsonl'),
      'dead-letter-output': join(dir, 'dead-again.jsonl'),
      'state-dir': join(dir, 'state-2'),
      restore: join(dir, 'savepoints'),
    };
    delete (again as { 'savepoint-dir'?: string })['savepoint-dir'];
    expect(await run(again)).toBe(0);
    expect(existsSync(join(dir, 'dead-again.jsonl')) ? lines(join(dir, 'dead-again.jsonl')) : []).toEqual([]);
  });
});

describe('streamctl run with an interval join', () => {
  it('joins each order with the shipments 0 to 10 minutes after it, the two files interleaved by batch, byte-identical on replay', async () => {
    const dir = scratch();
    const job = join(dir, 'job.yaml');
    writeFileSync(
      job,
      [
        'apiVersion: sluice.dev/v1alpha1',
        'kind: StreamJob',
        'metadata: { name: shipped }',
        'spec:',
        '  sources:',
        '    - { name: orders, file: { path: orders.jsonl }, eventTime: { field: ts } }',
        '    - { name: shipments, file: { path: shipments.jsonl }, eventTime: { field: ts } }',
        '  pipeline:',
        '    - join: { with: shipments, type: interval, leftKey: id, rightKey: order, lower: 0s, upper: 10m, into: shipment }',
        '    - map: { fields: { id: id, shipment: shipment.id } }',
        '  sinks: [{ name: out, stdout: {} }]',
        '',
      ].join('\n'),
    );
    const at = (minutes: number) => `"2025-12-05T10:${String(minutes).padStart(2, '0')}:00Z"`;
    writeFileSync(join(dir, 'orders.jsonl'), [`{"id":"o1","ts":${at(0)}}`, `{"id":"o2","ts":${at(5)}}`, `{"id":"o3","ts":${at(20)}}`, ''].join('\n'));
    writeFileSync(
      join(dir, 'shipments.jsonl'),
      [
        `{"id":"s1","order":"o1","ts":${at(8)}}`,
        `{"id":"s2","order":"o2","ts":${at(16)}}`,
        `{"id":"s3","order":"o3","ts":${at(30)}}`,
        `{"id":"s4","order":"o1","ts":${at(2)}}`,
        '',
      ].join('\n'),
    );
    const input = [`orders=${join(dir, 'orders.jsonl')}`, `shipments=${join(dir, 'shipments.jsonl')}`];
    expect(await run({ job, input, output: join(dir, 'first.jsonl'), 'late-output': join(dir, 'late.jsonl') })).toBe(0);
    expect(await run({ job, input, output: join(dir, 'second.jsonl') })).toBe(0);
    // The orders' batch comes first (watermark 10:19:59.999), then the shipments': o1 (10:00) meets s1 (10:08); o2 (10:05)
    // misses s2 (10:16, 11 minutes after); o3 (10:20) meets s3 (10:30, the bound itself); s4 (10:02) is below the
    // watermark of both streams by then (maxOutOfOrderness 0), so it is late, as in Flink, though o1 is within reach.
    expect(lines(join(dir, 'first.jsonl'))).toEqual([
      { id: 'o1', shipment: 's1' },
      { id: 'o3', shipment: 's3' },
    ]);
    expect(lines(join(dir, 'late.jsonl'))).toEqual([{ id: 's4', order: 'o1', ts: '2025-12-05T10:02:00Z' }]);
    expect(readFileSync(join(dir, 'second.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'first.jsonl'), 'utf8'));
  });
});

describe('savepoints in streamctl run', () => {
  it('a run stopped with a savepoint and resumed from it gives, together, what one run gives', async () => {
    const dir = scratch();
    const job = join(root, 'examples/fraud-velocity/job.yaml');
    // 600 000 generated events 1 ms apart in event time span two 5-minute windows; two partitions, two tasks.
    const generated = { job, generator: 'transactions', rate: 0, count: 600_000, keys: 20, parallelism: 2 };
    expect(await run({ ...generated, output: join(dir, 'whole.jsonl'), 'state-dir': join(dir, 'state-whole') })).toBe(0);
    expect(
      await run({
        ...generated,
        output: join(dir, 'first.jsonl'),
        'state-dir': join(dir, 'state-first'),
        duration: '1s',
        'savepoint-dir': join(dir, 'savepoints'),
      }),
    ).toBe(0);
    expect(await run({ ...generated, output: join(dir, 'rest.jsonl'), 'state-dir': join(dir, 'state-rest'), restore: join(dir, 'savepoints') })).toBe(0);
    const whole = readFileSync(join(dir, 'whole.jsonl'), 'utf8').split('\n');
    const resumed = (readFileSync(join(dir, 'first.jsonl'), 'utf8') + readFileSync(join(dir, 'rest.jsonl'), 'utf8')).split('\n');
    expect(whole).toHaveLength(41);
    // Each task emits in its own order; how the two tasks' results interleave depends on where the batches fell.
    expect(resumed.sort()).toEqual(whole.sort());
    // Three runs of 600 000 events: a few seconds on a quiet machine, minutes on a loaded one.
  }, 300_000);
});

describe('the streamctl run command', () => {
  const streamctl = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli/src/main.ts'), 'run', ...args], { cwd: root, encoding: 'utf8' });

  it('replays a file to stdout and prints the one-line summary on stderr', () => {
    const result = streamctl('examples/fraud-velocity/job.yaml', '--input', 'examples/fraud-velocity/sample.jsonl', '--state-dir', join(scratch(), 'state'));
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(12);
    expect(result.stderr).toMatch(/^fraud-velocity: 25 records in, 12 results out, 1 late, 0 dead-lettered in [\d.]+ s \([\d,]+ events\/s\)$/m);
  });

  it('runs the generator until told to stop, then stops cleanly with the summary', () => {
    const result = streamctl(
      'examples/fraud-velocity/job.yaml',
      '--generator',
      // 11 minutes of history at 10 a second (6,600 records, read within the 3 s even on a loaded machine): two 5-minute
      // windows close whatever the run's pace (200 a second over 6 minutes left none closed on a CI run at load 13).
      '--rate',
      '10',
      '--keys',
      '50',
      '--since',
      '11m',
      '--duration',
      '3s',
      '--compact',
      '--state-dir',
      join(scratch(), 'state'),
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^customer_id=C\d+ window_start=\S+ window_end=\S+ txn_count=\d+ txn_sum=[\d.]+$/m);
    expect(result.stderr).toMatch(/^fraud-velocity: [\d,]+ records in, [\d,]+ results out, \d+ late, 0 dead-lettered in [\d.]+ s/m);
  });
});
