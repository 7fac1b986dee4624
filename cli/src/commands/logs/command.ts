// `streamctl logs`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { clusterOptions } from '../../kube/options.js';
import type { LogsArgs } from './index.js';

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs <job>',
  describe: "print the logs of every pod of a StreamJob, each line prefixed with its pod's name",
  builder: (yargs) =>
    clusterOptions(yargs)
      .positional('job', { type: 'string', demandOption: true, describe: "the StreamJob's name" })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing new lines until Ctrl-C' })
      .option('tail', { type: 'number', describe: 'only the last N lines of each pod' })
      .option('previous', { alias: 'p', type: 'boolean', default: false, describe: "the previous container's logs (of a pod that restarted)" })
      .example('$0 logs fraud-velocity -f', 'follow every pod of the job')
      .example('$0 logs fraud-velocity --tail 20 -p', 'why the pods restarted: the end of the last run of each'),
  handler: async (args) => {
    const { logs } = await import('./index.js');
    process.exitCode = await logs(args, processIo);
  },
};
