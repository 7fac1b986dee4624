// Measures the registry as a client sees it: distinct registrations (each one a durable write) and reads, on the file or Kafka store.
// Run: npx tsx registry/scripts/bench.ts [--store file:DIR|kafka:HOST:PORT] [--writes N] [--connections C] [--seconds S]
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

const argv = await yargs(hideBin(process.argv))
  .option('store', { type: 'string', default: `file:${mkdtempSync(join(tmpdir(), 'sluice-registry-bench-'))}` })
  .option('kafka-topic', { type: 'string', default: `_schemas-bench-${Date.now()}` })
  .option('writes', { type: 'number', default: 500, describe: 'distinct schemas to register' })
  .option('connections', { type: 'number', default: 10 })
  .option('seconds', { type: 'number', default: 5, describe: 'duration of each read measurement' })
  .strict()
  .parseAsync();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Polls until the registry answers; a registry that never does fails the run after a minute. */
async function untilListening(base: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (
      await fetch(`${base}/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
  }
  throw new Error(`sluice-registry did not answer at ${base} within a minute`);
}

const contentType = 'application/vnd.schemaregistry.v1+json';
const schemaWith = (field: string) => JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: field, type: 'string', default: '' }] });

const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
const started = Date.now();
const port = await freePort();
const server = spawn(
  tsx,
  [join(import.meta.dirname, '../src/main.ts'), '--port', String(port), '--store', argv.store, '--kafka-topic', argv['kafka-topic'], '--log-level', 'warn'],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const url = `http://127.0.0.1:${port}`;
await untilListening(url);
console.log(`store ${argv.store}: listening after ${Date.now() - started} ms (process start included)`);

async function register(subject: string, schema: string): Promise<void> {
  const response = await fetch(`${url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify({ schema }),
  });
  if (!response.ok) throw new Error(`register ${subject}: ${response.status} ${await response.text()}`);
}

async function timed(label: string, count: number, run: () => Promise<void>): Promise<void> {
  const begin = performance.now();
  await run();
  const seconds = (performance.now() - begin) / 1000;
  console.log(`${label}: ${count} in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} req/s`);
}

process.once('exit', () => server.kill('SIGTERM'));

await timed('register distinct schemas, one at a time', argv.writes, async () => {
  for (let i = 0; i < argv.writes; i++) await register(`sequential-${i}`, schemaWith(`s${i}`));
});
await timed(`register distinct schemas, ${argv.connections} at a time`, argv.writes, async () => {
  let next = 0;
  await Promise.all(
    Array.from({ length: argv.connections }, async () => {
      for (let i = next++; i < argv.writes; i = next++) await register(`parallel-${i}`, schemaWith(`p${i}`));
    }),
  );
});

const reads: Array<{ label: string; path: string; method?: 'POST'; body?: string }> = [
  { label: 'GET /schemas/ids/1', path: '/schemas/ids/1' },
  { label: 'GET /subjects/{s}/versions/latest', path: '/subjects/sequential-0/versions/latest' },
  { label: 'POST /subjects/{s} (lookup)', method: 'POST', path: '/subjects/sequential-0', body: JSON.stringify({ schema: schemaWith('s0') }) },
  {
    label: 'POST /subjects/{s}/versions (already registered)',
    method: 'POST',
    path: '/subjects/sequential-0/versions',
    body: JSON.stringify({ schema: schemaWith('s0') }),
  },
];
for (const { label, path, method, body } of reads) {
  const result = await autocannon({
    url: `${url}${path}`,
    method: method ?? 'GET',
    ...(body === undefined ? {} : { body }),
    connections: argv.connections,
    duration: argv.seconds,
    headers: { 'content-type': contentType },
  });
  console.log(`${label}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`);
}

process.exit(0);
