/**
 * @sluice/cli: streamctl's commands as functions — each takes its flags and stdout/stderr writers and returns the exit
 * code — so scripts and tests run them in-process; `main.ts` wires them to the command line.
 */
export { describe, formatEvents, formatPods, formatSpec } from './commands/describe/index.js';
export { formatJobs, get, type GetArgs } from './commands/get/index.js';
export { logs, prefixedLines, type LogsArgs } from './commands/logs/index.js';
export { resume, type ResumeArgs } from './commands/resume/index.js';
export { newTriggerNonce, savepoint, type SavepointArgs } from './commands/savepoint/index.js';
export { formatSavepoints, savepoints } from './commands/savepoints/index.js';
export { parseParallelism, scale, type ScaleArgs } from './commands/scale/index.js';
export { formatStatus, status } from './commands/status/index.js';
export { suspend, type SuspendArgs } from './commands/suspend/index.js';
export { validate, validateFiles, type ValidateArgs } from './commands/validate/index.js';
export { validateFilesOnServer } from './commands/validate/server.js';
export { formatJsonPath } from './kube/jsonpath.js';
export { connect, type Cluster, type ClusterArgs, type CommandIo, type JobArgs, type OutputFormat, type WaitArgs, type Writer } from './kube/index.js';
