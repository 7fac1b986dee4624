// `streamctl resume <job> [--wait]`: spec.suspend false — the controller starts the job again from its last savepoint.
import { guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs, WaitArgs } from '../../kube/options.js';
import { changeSpec } from '../../kube/rollout.js';

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
