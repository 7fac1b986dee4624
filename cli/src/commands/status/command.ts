// `streamctl status`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, type JobArgs } from '../../kube/options.js';

export const statusCommand: CommandModule<object, JobArgs> = {
  command: 'status <job>',
  describe: "show a StreamJob's phase, parallelism, lag, watermark, savepoints, upgrade in progress and conditions",
  builder: (yargs) =>
    jobOptions(yargs)
      .example('$0 status fraud-velocity -n fraud', 'the job in namespace fraud, for people')
      .example('$0 status fraud-velocity -o json | jq .lastSavepoint.location', 'its status object, for scripts'),
  handler: async (args) => {
    const { status } = await import('./index.js');
    process.exitCode = await status(args, processIo);
  },
};
