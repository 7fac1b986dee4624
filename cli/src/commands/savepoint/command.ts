// `streamctl savepoint`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, waitOptions } from '../../kube/options.js';
import type { SavepointArgs } from './index.js';

export const savepointCommand: CommandModule<object, SavepointArgs> = {
  command: 'savepoint <job>',
  describe: 'take a savepoint of a running StreamJob (sets spec.savepointTrigger to a new value)',
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the savepoint is durable and print its location')
      .example('$0 savepoint fraud-velocity --wait', 'take a savepoint and print where it is')
      .example('$0 savepoint fraud-velocity -n fraud --wait --timeout 10m -o json', 'the savepoint record as JSON, waiting up to 10 minutes'),
  handler: async (args) => {
    const { savepoint } = await import('./index.js');
    process.exitCode = await savepoint(args, processIo);
  },
};
