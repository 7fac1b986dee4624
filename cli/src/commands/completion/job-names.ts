// Shell completion of job names: `streamctl status fr<Tab>` offers the namespace's StreamJobs, as kubectl completes
// the names of objects. The cluster is asked only then, with a short timeout, and any failure offers nothing.
import type { ClusterArgs } from '../../kube/options.js';

/** The commands whose first argument is a StreamJob's name. */
const jobCommands = new Set(['get', 'describe', 'status', 'logs', 'savepoint', 'savepoints', 'suspend', 'resume', 'scale']);

/** How long a completion may wait for the API server: a shell waiting on Tab is a user waiting. */
const timeoutMs = 2000;

/**
 * True when the word being completed is a job name: the first argument after one of the job commands. `typed` is
 * what yargs parsed as positional words, the one being completed (even empty) last among them.
 */
export function completesJobName(typed: readonly (string | number)[], current: string): boolean {
  const words = typed.map(String);
  if (words.at(-1) === current) words.pop();
  return words.length === 1 && jobCommands.has(words[0]!) && !current.startsWith('-');
}

/** The names of the StreamJobs in the namespace the flags name that start with `prefix`; none when the cluster cannot say. */
export async function jobNames(args: ClusterArgs, prefix: string): Promise<string[]> {
  try {
    const [{ connect }, { StreamJobs }] = await Promise.all([import('../../kube/cluster.js'), import('../../kube/streamjobs.js')]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the API server did not answer in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const jobs = await Promise.race([new StreamJobs(connect(args)).list(), timedOut]);
      return jobs.map((job) => job.metadata.name ?? '').filter((name) => name !== '' && name.startsWith(prefix));
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return [];
  }
}
