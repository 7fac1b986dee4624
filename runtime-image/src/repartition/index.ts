// The repartition stage's public surface: whether a job needs one, running it in one process, and the refusal on runtime pods.
export * from './kafka.js';
export * from './local.js';
export * from './plan.js';
export * from './stage-task.js';
