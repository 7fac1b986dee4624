// `streamctl resume <job> [--wait]`: spec.suspend false — the controller starts the job again from its last savepoint.
import type { CommandModule } from 'yargs';
import { changeSpec, guarded, jobOptions, processIo, waitOptions, type CommandIo, type JobArgs, type WaitArgs } from '../../kube/index.js';

export type ResumeArgs = JobArgs & WaitArgs;

export function resume(args: ResumeArgs, io: CommandIo): Promise<number> {
  return guarded('resume', io, () =>
    changeSpec(
      {
        ...args,
        apply: (jobs) => jobs.patch(args.job, { spec: { suspend: false } }),
        asked: 'resume',
        awaited: 'phase Running',
        reached: (job) => job.status?.phase === 'Running',
      },
      io,
    ),
  );
}

export const resumeCommand: CommandModule<object, ResumeArgs> = {
  command: 'resume <job>',
  describe: 'start a suspended StreamJob again from its last savepoint (sets spec.suspend: false)',
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the job is Running again').example('$0 resume fraud-velocity --wait', 'resume the job and wait until its pods are ready'),
  handler: async (args) => {
    process.exitCode = await resume(args, processIo);
  },
};
