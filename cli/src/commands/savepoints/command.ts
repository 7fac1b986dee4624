// `streamctl savepoints`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, type JobArgs } from '../../kube/options.js';

export const savepointsCommand: CommandModule<object, JobArgs> = {
  command: 'savepoints <job>',
  describe: "list a StreamJob's savepoints kept by retention, newest first: location, time, trigger, parallelism, generation",
  builder: (yargs) =>
    jobOptions(yargs)
      .example('$0 savepoints fraud-velocity -n fraud', 'the kept savepoints as a table')
      .example('$0 savepoints fraud-velocity -o json | jq -r ".[0].location"', "the newest savepoint's location"),
  handler: async (args) => {
    const { savepoints } = await import('./index.js');
    process.exitCode = await savepoints(args, processIo);
  },
};
