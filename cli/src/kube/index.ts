// The cluster commands' shared pieces: kubeconfig and namespace, StreamJob reads and patches, waits, and output. The
// commands import the modules they use one by one, so that a command loads no more than it needs.
export * from './cluster.js';
export * from './dry-run.js';
export * from './io.js';
export * from './jsonpath.js';
export * from './options.js';
export * from './output.js';
export * from './rollout.js';
export * from './streamjobs.js';
export * from './wait.js';
