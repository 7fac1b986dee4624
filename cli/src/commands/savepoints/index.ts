// `streamctl savepoints <job>`: the savepoints the controller keeps for a job (status.savepoints), newest first.
import type { Savepoint } from '@sluice/crds';
import { connect } from '../../kube/cluster.js';
import { guarded, type CommandIo } from '../../kube/io.js';
import type { JobArgs } from '../../kube/options.js';
import { age, formatObject, formatTable } from '../../kube/output.js';
import { StreamJobs } from '../../kube/streamjobs.js';

const newestFirst = (a: Savepoint, b: Savepoint): number => Date.parse(b.timestamp) - Date.parse(a.timestamp);

export function formatSavepoints(savepoints: Savepoint[], now: Date = new Date()): string {
  const rows = savepoints.map((savepoint) => [
    savepoint.location,
    `${savepoint.timestamp} (${age(savepoint.timestamp, now)} ago)`,
    savepoint.trigger,
    savepoint.parallelism === undefined ? '-' : String(savepoint.parallelism),
    savepoint.generation === undefined ? '-' : String(savepoint.generation),
  ]);
  return formatTable(['LOCATION', 'TIME', 'TRIGGER', 'PARALLELISM', 'GENERATION'], rows);
}

export function savepoints(args: JobArgs, io: CommandIo): Promise<number> {
  return guarded('savepoints', io, async () => {
    const jobs = new StreamJobs(connect(args));
    const job = await jobs.read(args.job);
    // The controller keeps them newest first; sorting again costs nothing and survives a hand-edited status.
    const kept = [...(job.status?.savepoints ?? [])].sort(newestFirst);
    if (args.output !== 'table') io.stdout.write(formatObject(kept, args.output));
    else if (kept.length === 0)
      io.stdout.write(`streamjob "${args.job}" has no savepoints yet; take one with streamctl savepoint ${args.job} -n ${jobs.cluster.namespace} --wait\n`);
    else io.stdout.write(formatSavepoints(kept));
    return 0;
  });
}
