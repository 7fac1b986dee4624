// Jest's global setup: the same `up` as `npm run env:up`; servers that were already running are left running after the tests.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsFile } from './endpoints.js';
import { up } from './env.js';
import { envPaths } from './proc.js';

export default async function globalSetup(): Promise<void> {
  const wasUp = existsSync(endpointsFile());
  await up((line) => process.stderr.write(`[test env] ${line}\n`));
  // The teardown stops only an environment this run started, so `npm run env:up` keeps a warm one between runs.
  writeFileSync(join(envPaths().run, 'started-by-jest'), wasUp ? 'no' : 'yes');
}
