// Jest's global setup and teardown: the same `up` as `npm run env:up`; servers that were already running are left running after the tests.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsFile } from './endpoints.js';
import { down, up } from './env.js';
import { envPaths } from './proc.js';

const log = (line: string): void => {
  process.stderr.write(`[test env] ${line}\n`);
};

function marker(): string {
  return join(envPaths().run, 'started-by-jest');
}

export async function globalSetup(): Promise<void> {
  const wasUp = existsSync(endpointsFile());
  await up(log);
  // The teardown stops only an environment this run started, so `npm run env:up` keeps a warm one between runs.
  writeFileSync(marker(), wasUp ? 'no' : 'yes');
}

export async function globalTeardown(): Promise<void> {
  const startedByJest = existsSync(marker()) && readFileSync(marker(), 'utf8') === 'yes';
  rmSync(marker(), { force: true });
  if (startedByJest && process.env.SLUICE_ENV_KEEP !== '1') await down(log);
}
