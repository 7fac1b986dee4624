#!/usr/bin/env node
// `streamctl`: the Sluice command line; each command lives in its own folder under commands/.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './commands/run/index.js';
import { validateCommand } from './commands/validate/index.js';

await yargs(hideBin(process.argv))
  .scriptName('streamctl')
  .usage('$0 <command> [options]\n\nRun, validate and operate Sluice stream jobs.')
  .command(runCommand)
  .command(validateCommand)
  .example('$0 run examples/fraud-velocity/job.yaml --input examples/fraud-velocity/sample.jsonl', 'run a job on this machine over a file')
  .example('$0 validate examples/fraud-velocity/job.yaml', 'check a manifest the way the API server will')
  .demandCommand(1, 'name a command; see streamctl --help')
  .strict()
  .help()
  .parseAsync();
