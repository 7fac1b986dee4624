// `streamctl suspend <job> [--wait]`: spec.suspend true — the controller takes a savepoint and scales the job to zero pods.
import type { CommandModule } from 'yargs';
import { changeSpec, guarded, jobOptions, processIo, waitOptions, type CommandIo, type JobArgs, type WaitArgs } from '../../kube/index.js';

export type SuspendArgs = JobArgs & WaitArgs;

export function suspend(args: SuspendArgs, io: CommandIo): Promise<number> {
  return guarded('suspend', io, () =>
    changeSpec(
      {
        ...args,
        apply: (jobs) => jobs.patch(args.job, { spec: { suspend: true } }),
        asked: 'suspend',
        awaited: 'phase Suspended',
        reached: (job) => job.status?.phase === 'Suspended',
      },
      io,
    ),
  );
}

export const suspendCommand: CommandModule<object, SuspendArgs> = {
  command: 'suspend <job>',
  describe: 'stop a StreamJob with a savepoint and scale it to zero pods (sets spec.suspend: true); resume carries on from that savepoint',
  builder: (yargs) =>
    waitOptions(jobOptions(yargs), 'the job is Suspended').example('$0 suspend fraud-velocity --wait', 'suspend the job and wait until its pods are gone'),
  handler: async (args) => {
    process.exitCode = await suspend(args, processIo);
  },
};
