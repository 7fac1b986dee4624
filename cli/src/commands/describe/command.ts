// `streamctl describe`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { clusterOptions, type ClusterArgs } from '../../kube/options.js';

export const describeCommand: CommandModule<object, ClusterArgs & { job: string }> = {
  command: 'describe <job>',
  describe: 'a StreamJob in full, as kubectl describe shows it: spec summary, status, conditions, recent Events, pods and savepoints',
  builder: (yargs) =>
    clusterOptions(yargs)
      .positional('job', { type: 'string', demandOption: true, describe: "the StreamJob's name" })
      .example('$0 describe fraud-velocity -n fraud', 'why a job is where it is'),
  handler: async (args) => {
    const { describe } = await import('./index.js');
    process.exitCode = await describe(args, processIo);
  },
};
