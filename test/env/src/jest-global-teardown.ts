// Jest's global teardown: stop the environment if this test run started it.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { down } from './env.js';
import { envPaths } from './proc.js';

export default async function globalTeardown(): Promise<void> {
  const marker = join(envPaths().run, 'started-by-jest');
  const startedByJest = existsSync(marker) && readFileSync(marker, 'utf8') === 'yes';
  rmSync(marker, { force: true });
  if (startedByJest && process.env.SLUICE_ENV_KEEP !== '1') await down((line) => process.stderr.write(`[test env] ${line}\n`));
}
