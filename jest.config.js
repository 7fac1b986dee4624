// One jest run for the whole monorepo: TypeScript through swc as native ESM, the real servers from test/env.
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }];

const workspaces = {
  '@sluice/crds': 'crds',
  '@sluice/runtime': 'runtime-image',
  '@sluice/controller': 'controller',
  '@sluice/cli': 'cli',
  '@sluice/registry': 'registry',
};

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...Object.fromEntries(Object.entries(workspaces).map(([name, dir]) => [`^${name}$`, `<rootDir>/${dir}/src/index.ts`])),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
  // The real-node suite needs root and `npm run env:up -- --real-node`; SLUICE_REAL_NODE=1 runs it (see docs/runtime.md).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(process.env.SLUICE_REAL_NODE === '1' ? [] : ['<rootDir>/test/real-node/'])],
  globalSetup: '<rootDir>/test/env/src/jest-global-setup.mjs',
  globalTeardown: '<rootDir>/test/env/src/jest-global-teardown.mjs',
  testTimeout: 60_000,
  maxWorkers: 2,
};
