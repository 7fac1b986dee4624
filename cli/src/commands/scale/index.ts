// `streamctl scale <job> <N> [--wait]`: set a StreamJob's parallelism through its scale subresource, as kubectl scale does.
import { CommandError, guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs, WaitArgs } from '../../kube/options.js';
import { changeSpec } from '../../kube/rollout.js';

export interface ScaleArgs extends JobArgs, WaitArgs {
  /** As typed: a string, so "2.5" and "-1" are refused here with a sentence rather than coerced by the parser. */
  parallelism: string;
}

/** The parallelism asked for, or an error saying what is allowed. */
export function parseParallelism(text: string, job: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw new CommandError(`parallelism ${JSON.stringify(text)} is not a whole number; give the number of pods, such as 3`);
  const parallelism = Number(trimmed);
  if (parallelism < 0) throw new CommandError(`parallelism ${parallelism} is negative; give the number of pods, 1 or more`);
  if (parallelism === 0)
    throw new CommandError(`parallelism 0 is not allowed (spec.parallelism is at least 1); to stop the job's pods, run streamctl suspend ${job}`);
  return parallelism;
}

export function scale(args: ScaleArgs, io: CommandIo): Promise<number> {
  return guarded('scale', io, () => {
    const parallelism = parseParallelism(args.parallelism, args.job);
    return changeSpec(
      {
        ...args,
        asked: `parallelism ${parallelism}`,
        awaited: `${parallelism} running pod(s) in phase Running`,
        reached: (job) => job.status?.parallelism === parallelism && job.status.phase === 'Running',
        apply: (jobs) => jobs.scale(args.job, parallelism),
        nothingToWaitFor: (job) =>
          job.spec.suspend === true
            ? `streamjob "${args.job}" is suspended; it runs ${parallelism} pod(s) once resumed (streamctl resume ${args.job} --wait)`
            : undefined,
      },
      io,
    );
  });
}
