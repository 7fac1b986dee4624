// `streamctl suspend <job> [--wait]`: spec.suspend true — the controller takes a savepoint and scales the job to zero pods.
import { guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs, WaitArgs } from '../../kube/options.js';
import { changeSpec } from '../../kube/rollout.js';

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
