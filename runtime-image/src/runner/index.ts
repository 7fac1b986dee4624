// The runner's public surface: run a compiled job in one process, and set up a local run from streamctl's flags.
export * from './local.js';
export * from './outputs.js';
export * from './progress.js';
export * from './run.js';
export * from './redis.js';
