// Every test file is in exactly one jest project: unit, programs (no server, but it runs programs) or servers (its imports reach test/env).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { classifyTests } from '../classify-tests.mjs';

const rootDir = resolve(import.meta.dirname, '..', '..');
// Spelt apart so that this file, which only writes fixtures, is not itself classed as using test/env.
const testEnv = ['test', 'env'].join('/');

function listTests(...args: string[]): string[] {
  const result = spawnSync(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--listTests', ...args], {
    cwd: rootDir,
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line.endsWith('.test.ts'))
    .sort();
}

test('npm test lists each test file once: the unit project and the servers project split it without overlap', () => {
  const all = listTests();
  const unit = listTests('--selectProjects', 'unit');
  const programs = listTests('--selectProjects', 'programs');
  const servers = listTests('--selectProjects', 'servers');
  expect([...unit, ...programs, ...servers].sort()).toEqual(all);
  expect(new Set(all).size).toBe(all.length);
  expect(unit).toContain(join(rootDir, 'runtime-image', 'src', 'window', 'operator.test.ts'));
  expect(programs).toContain(join(rootDir, 'test', 'unit', 'classify-tests.test.ts'));
  expect(servers).toContain(join(rootDir, 'test', 'env', 'kafka.test.ts'));
});

test('a test is a server test when anything it imports, directly or not, lies in test/env, or it names test/env; else it runs programs when it reaches node:child_process', () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-classify-'));
  const write = (path: string, source: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  };
  write(`${testEnv}/src/endpoints.ts`, 'export const endpoints = {};\n');
  write('lib/helper.ts', `export { endpoints } from '../${testEnv}/src/endpoints.js';\n`);
  write('lib/pure.ts', "import { a } from './cycle.js';\nexport const b = a;\n");
  write('lib/cycle.ts', "import { b } from './pure.js';\nexport const a = 1;\nexport const c = b;\n");
  write('a/pure.test.ts', "import { b } from '../lib/pure.js';\nimport { x } from 'kafkajs';\n");
  write('a/through-helper.test.ts', "const { endpoints } = await import('../lib/helper.js');\n");
  write('a/spawns-env.test.ts', `import { spawnSync } from 'node:child_process';\nspawnSync('tsx', ['${testEnv}/src/cli.ts', 'up']);\n`);
  write('lib/runs.ts', "import { spawn } from 'node:child_process';\nexport const run = spawn;\n");
  write('a/runs-a-program.test.ts', "import { run } from '../lib/runs.js';\n");
  write('node_modules/dep/ignored.test.ts', '');
  const { unit, programs, servers } = classifyTests(root);
  expect(unit).toEqual([join(root, 'a/pure.test.ts')]);
  expect(programs).toEqual([join(root, 'a/runs-a-program.test.ts')]);
  expect(servers).toEqual([join(root, 'a/spawns-env.test.ts'), join(root, 'a/through-helper.test.ts')]);
});
