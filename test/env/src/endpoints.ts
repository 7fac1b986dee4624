// Where the running test environment says its servers are: one JSON file that env:up writes and tests read.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envPaths } from './proc.js';
import type { Endpoints } from './service.js';

/** `SLUICE_ENDPOINTS` if set, else `<run>/endpoints.json`. */
export function endpointsFile(): string {
  return process.env.SLUICE_ENDPOINTS ?? join(envPaths().run, 'endpoints.json');
}

export function writeEndpoints(endpoints: Endpoints): string {
  const file = endpointsFile();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(endpoints, null, 2)}\n`);
  return file;
}

/** The endpoints of the running environment; fails with what to run when there is none. */
export function readEndpoints(): Endpoints {
  const file = endpointsFile();
  if (!existsSync(file)) {
    throw new Error(`no test environment is running (${file} does not exist): start it with \`npm run env:up\`, or run the tests with \`npm test\``);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Endpoints;
}
