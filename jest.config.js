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
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/env/src/jest-global-setup.mjs',
  globalTeardown: '<rootDir>/test/env/src/jest-global-teardown.mjs',
  testTimeout: 60_000,
  maxWorkers: 2,
};
