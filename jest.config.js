// One jest run for the whole monorepo: TypeScript through swc as native ESM; the `servers` project's tests get the real
// servers from test/env; the `unit` and `programs` projects' tests (their imports never reach test/env) run without
// any, `programs` being those that run programs (streamctl, jest, a runtime process), which take seconds each.
import { classifyTests, workspaces } from './test/classify-tests.mjs';

const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }];
const rootDir = import.meta.dirname;
const { unit, programs } = classifyTests(rootDir);
const noServer = [...unit, ...programs];
const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const shared = {
  rootDir,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...Object.fromEntries(Object.entries(workspaces).map(([name, dir]) => [`^${name}$`, `<rootDir>/${dir}/src/index.ts`])),
    // The one subpath export: SluiceError without the CRD schemas (streamctl --help and the registry load no more).
    '^@sluice/crds/errors$': '<rootDir>/crds/src/errors.ts',
    // Any other subpath export (`@sluice/runtime/compiler`) is the index.ts of the folder of that name.
    ...Object.fromEntries(Object.entries(workspaces).map(([name, dir]) => [`^${name}/([a-z-]+)$`, `<rootDir>/${dir}/src/$1/index.ts`])),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
};
// The real-node suite needs root and `npm run env:up -- --real-node`; SLUICE_REAL_NODE=1 runs it (see docs/runtime.md).
const ignored = ['/node_modules/', '/dist/', ...(process.env.SLUICE_REAL_NODE === '1' ? [] : ['<rootDir>/test/real-node/'])];

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      // Exactly the unit files; a connection to a server's port fails the test at once (see the environment).
      testEnvironment: '<rootDir>/test/env/src/unit-environment.mjs',
      testPathIgnorePatterns: ignored,
      testMatch: unit,
    },
    {
      ...shared,
      displayName: 'programs',
      testEnvironment: '<rootDir>/test/env/src/unit-environment.mjs',
      testPathIgnorePatterns: ignored,
      testMatch: programs,
    },
    {
      ...shared,
      displayName: 'servers',
      testPathIgnorePatterns: [...ignored, ...noServer.map((file) => `^${escape(file)}$`)],
      globalSetup: '<rootDir>/test/env/src/jest-global-setup.mjs',
      globalTeardown: '<rootDir>/test/env/src/jest-global-teardown.mjs',
    },
  ],
  testTimeout: 60_000,
  maxWorkers: 2,
};
