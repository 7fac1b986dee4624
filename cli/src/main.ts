#!/usr/bin/env node
// `streamctl`: the Sluice command line; each command lives in its own folder under commands/.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { resumeCommand } from './commands/resume/index.js';
import { runCommand } from './commands/run/index.js';
import { savepointCommand } from './commands/savepoint/index.js';
import { savepointsCommand } from './commands/savepoints/index.js';
import { scaleCommand } from './commands/scale/index.js';
import { statusCommand } from './commands/status/index.js';
import { suspendCommand } from './commands/suspend/index.js';
import { validateCommand } from './commands/validate/index.js';

await yargs(hideBin(process.argv))
  .scriptName('streamctl')
  .usage('$0 <command> [options]\n\nRun, validate and operate Sluice stream jobs.')
  .command(runCommand)
  .command(validateCommand)
  .command(statusCommand)
  .command(savepointCommand)
  .command(savepointsCommand)
  .command(suspendCommand)
  .command(resumeCommand)
  .command(scaleCommand)
  .example('$0 run examples/fraud-velocity/job.yaml --input examples/fraud-velocity/sample.jsonl', 'run a job on this machine over a file')
  .example('$0 validate examples/fraud-velocity/job.yaml', 'check a manifest the way the API server will')
  .example('$0 status fraud-velocity -n fraud', 'what the controller reports about a job in the cluster')
  .example('$0 savepoint fraud-velocity --wait', 'take a savepoint and print its location')
  .demandCommand(1, 'name a command; see streamctl --help')
  .strict()
  .help()
  .parseAsync();
