// The `sluice-registry` command as a real process: listens where it is told, serves from its file store, and stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/env/src/eventually.js';

const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
const main = join(import.meta.dirname, 'main.ts');
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-cli-'));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Starts the command on a free port and returns it with the URL it announced. */
async function start(): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(tsx, [main, '--port', '0', '--store', `file:${directory}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await eventually('sluice-registry to announce its address', () => Promise.resolve(/listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]));
  return { process: child, url };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

it('serves the registry from its folder across restarts and exits 0 on SIGTERM', async () => {
  const first = await start();
  const registered = await fetch(`${first.url}/subjects/payments-value/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: '{"type":"string"}' }),
  });
  expect(await registered.json()).toEqual({ id: 1 });
  expect(await stop(first.process)).toBe(0);

  const second = await start();
  try {
    const latest = await fetch(`${second.url}/subjects/payments-value/versions/latest`);
    expect(latest.headers.get('content-type')).toContain('application/vnd.schemaregistry.v1+json');
    expect(await latest.json()).toEqual({ subject: 'payments-value', version: 1, id: 1, schema: '"string"' });
  } finally {
    expect(await stop(second.process)).toBe(0);
  }
});
