// `streamctl resume`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { jobOptions, waitOptions } from '../../kube/options.js';
import type { ResumeArgs } from './index.js';

export const resumeCommand: CommandModule<object, ResumeArgs> = {
  command: 'resume <job>',
  describe: 'start a suspended StreamJob again from its last savepoint (sets spec.suspend: false)',
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the job is Running again').example('$0 resume fraud-velocity --wait', 'resume the job and wait until its pods are ready'),
  handler: async (args) => {
    const { resume } = await import('./index.js');
    process.exitCode = await resume(args, processIo);
  },
};
