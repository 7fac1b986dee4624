// `streamctl scale`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, waitOptions } from '../../kube/options.js';
import type { ScaleArgs } from './index.js';

export const scaleCommand: CommandModule<object, ScaleArgs> = {
  command: 'scale <job> <parallelism>',
  describe: "change a StreamJob's parallelism (its runtime pods); the controller rescales it through a savepoint",
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the job runs with the new parallelism')
      .positional('parallelism', { type: 'string', demandOption: true, describe: 'the number of pods, 1 or more' })
      .example('$0 scale fraud-velocity 4 --wait', 'rescale to 4 pods and wait until they run'),
  handler: async (args) => {
    const { scale } = await import('./index.js');
    process.exitCode = await scale(args, processIo);
  },
};
