// streamctl validate checks a job's fields against its source's subject: in a real sluice-registry process, in a SchemaSubject beside the job, or notes why it could not.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../../test/env/src/eventually.js';
import { validate } from './index.js';

const root = join(import.meta.dirname, '../../../..');
const tsx = join(root, 'node_modules/.bin/tsx');

const TRANSACTION = JSON.stringify({
  type: 'record',
  name: 'Transaction',
  fields: [
    { name: 'transaction_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
});

function job(registryUrl: string): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: StreamJob
metadata:
  name: typo
spec:
  sources:
    - name: transactions
      kafka:
        topic: transactions
      format: avro
      schema:
        subject: transactions-value
        registryUrl: ${registryUrl}
  pipeline:
    - filter: amont > 100.0
    - keyBy:
        field: customerid
    - window:
        type: tumbling
        size: 5m
      aggregate:
        - name: total
          fn: sum
          field: amount
  sinks:
    - name: out
      stdout: {}
`;
}

const subjectManifest = `apiVersion: sluice.dev/v1alpha1
kind: SchemaSubject
metadata:
  name: transactions-value
spec:
  subject: transactions-value
  schemaType: AVRO
  schema: '${TRANSACTION}'
`;

let directory: string;
let registry: ChildProcess;
let registryUrl: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-validate-schema-'));
  registry = spawn(tsx, [join(root, 'registry/src/main.ts'), '--port', '0', '--store', `file:${join(directory, 'store')}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  registry.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  registry.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  registryUrl = await eventually('sluice-registry to announce its address', () =>
    Promise.resolve(/listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]),
  );
  for (let version = 0; version < 3; version++) {
    // Three versions, each adding an optional field, so the check names version 3.
    const fields = [
      ...(JSON.parse(TRANSACTION) as { fields: unknown[] }).fields,
      ...Array.from({ length: version }, (_, i) => ({ name: `note_${i}`, type: ['null', 'string'], default: null })),
    ];
    const response = await fetch(`${registryUrl}/subjects/transactions-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify({ ...(JSON.parse(TRANSACTION) as object), fields }) }),
    });
    expect(response.status).toBe(200);
  }
});

afterAll(async () => {
  const exited = new Promise((resolve) => registry.once('exit', resolve));
  registry.kill('SIGTERM');
  await exited;
  rmSync(directory, { recursive: true, force: true });
});

async function run(files: string[], registry?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
  const status = await validate({ files, ...(registry === undefined ? {} : { registry }) }, io);
  return { status, stdout, stderr };
}

function write(name: string, text: string): string {
  const file = join(directory, name);
  writeFileSync(file, text);
  return file;
}

/** A port nothing listens on: a registry that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('streamctl validate against a schema', () => {
  it("names each typo'd field with the subject's version and the closest field, from the registry the job names", async () => {
    const file = write('typo.yaml', job(registryUrl));
    const { status, stderr } = await run([file]);
    expect(stderr.split('\n')).toEqual([
      `${file} StreamJob/typo: spec.pipeline[0].filter: field amont is not in subject transactions-value version 3 (fields: transaction_id, customer_id, amount, timestamp, note_0, note_1); did you mean amount?`,
      `${file} StreamJob/typo: spec.pipeline[1].keyBy.field: field customerid is not in subject transactions-value version 3 (fields: transaction_id, customer_id, amount, timestamp, note_0, note_1); did you mean customer_id?`,
      '2 problem(s) found; fix the fields named above and run streamctl validate again',
      '',
    ]);
    expect(status).toBe(1);
  });

  it('asks the --registry given instead of the one the job names', async () => {
    const file = write('elsewhere.yaml', job(`http://127.0.0.1:${await closedPort()}`));
    const { status, stderr } = await run([file], registryUrl);
    expect(stderr).toContain('spec.pipeline[0].filter: field amont is not in subject transactions-value version 3');
    expect(status).toBe(1);
  });

  it('checks against a SchemaSubject among the files when no --registry is given', async () => {
    const file = write('with-subject.yaml', `${subjectManifest}---\n${job(`http://127.0.0.1:${await closedPort()}`)}`);
    const { status, stderr } = await run([file]);
    expect(stderr).toContain(
      `${file}#2 StreamJob/typo: spec.pipeline[0].filter: field amont is not in subject transactions-value (the SchemaSubject in ${file}#1)`,
    );
    expect(status).toBe(1);
  });

  it("refuses a job whose results lack a field its Kafka sink's subject requires, naming the field and the fix", async () => {
    const features = `apiVersion: sluice.dev/v1alpha1
kind: SchemaSubject
metadata:
  name: features-value
spec:
  subject: features-value
  schemaType: AVRO
  schema: '${JSON.stringify({
    type: 'record',
    name: 'Features',
    fields: [
      { name: 'customer_id', type: 'string' },
      { name: 'total', type: 'double' },
      { name: 'txn_max', type: 'double' },
    ],
  })}'
`;
    const fixed = job(registryUrl).replace('filter: amont', 'filter: amount').replace('field: customerid', 'field: customer_id');
    const withSink = fixed.replace(
      '      stdout: {}',
      '      kafka:\n        topic: features\n        format: avro\n        schema:\n          subject: features-value',
    );
    const file = write('sink.yaml', `${subjectManifest}---\n${features}---\n${withSink}`);
    const { status, stderr } = await run([file]);
    expect(stderr.split('\n')[0]).toBe(
      `${file}#3 StreamJob/typo: spec.sinks[0].kafka.schema.subject: subject features-value (the SchemaSubject in ${file}#2) requires field txn_max, which the pipeline's results do not hold (they hold customer_id, window_start, window_end, total); add it (an aggregate or a map field named txn_max), or give it a default in the subject's schema`,
    );
    expect(status).toBe(1);
  });

  it('with the registry down, notes that the check was skipped and why, and keeps the exit code', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const file = write('offline.yaml', job(down));
    const { status, stdout, stderr } = await run([file]);
    expect(stderr).toMatch(
      new RegExp(
        `^note: ${file} StreamJob/typo: the schema check was skipped: the schema registry at ${down} did not answer GET /subjects/transactions-value/versions/latest`,
      ),
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stdout).toBe('1 file(s) valid\n');
    expect(status).toBe(0);
  });
});
