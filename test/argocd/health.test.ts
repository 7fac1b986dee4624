// The Argo CD health checks run in gopher-lua as Argo CD runs them, on StreamJob, Topic and SchemaSubject statuses the controller writes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { health, kinds, type Health } from './lua.js';

const testdataRoot = join(dirname(fileURLToPath(import.meta.url)), 'sluice.dev');

interface HealthTest {
  healthStatus: Health;
  inputPath: string;
}

function casesOf(kind: string): HealthTest[] {
  return (parse(readFileSync(join(testdataRoot, kind, 'health_test.yaml'), 'utf8')) as { tests: HealthTest[] }).tests;
}

describe.each(kinds)('the %s health check', (kind) => {
  test.each(casesOf(kind).map((one) => [one.inputPath, one.healthStatus] as const))('%s is %p', async (inputPath, expected) => {
    const object = parse(readFileSync(join(testdataRoot, kind, inputPath), 'utf8')) as unknown;
    expect(await health(kind, object)).toEqual(expected);
  });
});

test('every status the health checks read is covered: each kind has a Healthy, a Progressing and a Degraded case', () => {
  for (const kind of kinds) {
    const statuses = new Set(casesOf(kind).map((one) => one.healthStatus.status));
    expect([...statuses].sort()).toEqual(expect.arrayContaining(['Degraded', 'Healthy', 'Progressing']));
  }
});

test('a StreamJob without metadata.generation or conditions does not break the script', async () => {
  expect(await health('StreamJob', { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { name: 'x' }, status: { phase: 'Running' } })).toEqual({
    status: 'Progressing',
    message: 'waiting for the runtime pods to be ready',
  });
});
