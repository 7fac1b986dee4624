/**
 * @sluice/cli: streamctl's commands as functions — each takes its flags and stdout/stderr writers and returns the exit
 * code — so scripts and tests run them in-process; `main.ts` wires them to the command line.
 */
export { resume, type ResumeArgs } from './commands/resume/index.js';
export { newTriggerNonce, savepoint, type SavepointArgs } from './commands/savepoint/index.js';
export { formatSavepoints, savepoints } from './commands/savepoints/index.js';
export { parseParallelism, scale, type ScaleArgs } from './commands/scale/index.js';
export { formatStatus, status } from './commands/status/index.js';
export { suspend, type SuspendArgs } from './commands/suspend/index.js';
export { validate, validateFiles, validateFilesOnServer, type ValidateArgs } from './commands/validate/index.js';
export { connect, type Cluster, type ClusterArgs, type CommandIo, type JobArgs, type OutputFormat, type WaitArgs, type Writer } from './kube/index.js';
