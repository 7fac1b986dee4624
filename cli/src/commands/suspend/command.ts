// `streamctl suspend`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, waitOptions } from '../../kube/options.js';
import type { SuspendArgs } from './index.js';

export const suspendCommand: CommandModule<object, SuspendArgs> = {
  command: 'suspend <job>',
  describe: 'stop a StreamJob with a savepoint and scale it to zero pods (sets spec.suspend: true); resume carries on from that savepoint',
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the job is Suspended').example('$0 suspend fraud-velocity --wait', 'suspend the job and wait until its pods are gone'),
  handler: async (args) => {
    const { suspend } = await import('./index.js');
    process.exitCode = await suspend(args, processIo);
  },
};
