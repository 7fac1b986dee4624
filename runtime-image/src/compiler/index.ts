// The job compiler's public surface: compile a StreamJob, its CEL expressions, and the compiled job's shape.
export * from './cel.js';
export * from './compile.js';
export * from './job.js';
export type { MaskKeyRef, MaskSecrets } from './mask.js';
export * from './problems.js';
export * from './schema-check.js';
