// `streamctl get [job]`: StreamJobs as a table like `kubectl get streamjobs -o wide` (name, phase, parallelism, lag,
// watermark, last savepoint, age), or by name, as JSON or YAML, or through a jsonpath template.
import type { StreamJob } from '@sluice/crds';
import { connect } from '../../kube/cluster.js';
import { guarded, type CommandIo } from '../../kube/io.js';
import { formatJsonPath } from '../../kube/jsonpath.js';
import type { ClusterArgs } from '../../kube/options.js';
import { age, formatObject, formatTable } from '../../kube/output.js';
import { condition } from '../../kube/rollout.js';
import { StreamJobs } from '../../kube/streamjobs.js';

export interface GetArgs extends ClusterArgs {
  job?: string;
  'all-namespaces': boolean;
  /** table, wide, name, json, yaml or jsonpath=TEMPLATE (checked by the command line). */
  output: string;
}

const none = '-';
const orNone = (value: number | string | undefined): string => (value === undefined ? none : String(value));

interface Column {
  title: string;
  cell: (job: StreamJob, now: Date) => string;
  /** Shown only with -o wide. */
  wide?: boolean;
}

/** The columns in order; the first four are the CRD's printer columns, so kubectl get and streamctl get agree. */
const columns: Column[] = [
  { title: 'NAME', cell: (job) => job.metadata.name ?? none },
  { title: 'PHASE', cell: (job) => job.status?.phase ?? none },
  { title: 'PARALLELISM', cell: (job) => orNone(job.status?.parallelism) },
  { title: 'LAG', cell: (job) => orNone(job.status?.lag) },
  { title: 'WATERMARK', cell: (job, now) => (job.status?.watermark === undefined ? none : `${age(job.status.watermark, now)} ago`) },
  { title: 'LAST-SAVEPOINT', cell: (job, now) => (job.status?.lastSavepoint === undefined ? none : `${age(job.status.lastSavepoint.timestamp, now)} ago`) },
  { title: 'AGE', cell: (job, now) => age(job.metadata.creationTimestamp, now) },
  { title: 'DESIRED', cell: (job) => `${job.spec.parallelism ?? 1}${job.spec.suspend === true ? ' (suspended)' : ''}`, wide: true },
  { title: 'UPGRADE', cell: (job) => job.status?.upgrade?.state ?? none, wide: true },
  { title: 'READY', cell: (job) => condition(job, 'Ready')?.reason ?? condition(job, 'Ready')?.status ?? none, wide: true },
];

/** The jobs as kubectl prints them: -A adds a NAMESPACE column first, -o wide the columns marked wide. */
export function formatJobs(jobs: StreamJob[], options: { wide?: boolean; allNamespaces?: boolean } = {}, now: Date = new Date()): string {
  const shown = columns.filter((column) => options.wide === true || column.wide !== true);
  const header = [...(options.allNamespaces === true ? ['NAMESPACE'] : []), ...shown.map((column) => column.title)];
  const rows = jobs.map((job) => [
    ...(options.allNamespaces === true ? [job.metadata.namespace ?? none] : []),
    ...shown.map((column) => column.cell(job, now)),
  ]);
  return formatTable(header, rows);
}

/** One job is printed as itself; several as a `kind: List`, as kubectl does. */
function asObject(args: GetArgs, jobs: StreamJob[]): unknown {
  return args.job !== undefined ? jobs[0] : { apiVersion: 'v1', kind: 'List', items: jobs, metadata: { resourceVersion: '' } };
}

function print(args: GetArgs, jobs: StreamJob[]): string {
  if (args.output.startsWith('jsonpath=')) return formatJsonPath(args.output.slice('jsonpath='.length), asObject(args, jobs));
  switch (args.output) {
    case 'name':
      return jobs.map((job) => `streamjob.sluice.dev/${job.metadata.name}\n`).join('');
    case 'json':
    case 'yaml':
      return formatObject(asObject(args, jobs), args.output);
    default:
      return formatJobs(jobs, { wide: args.output === 'wide', allNamespaces: args['all-namespaces'] });
  }
}

export function get(args: GetArgs, io: CommandIo): Promise<number> {
  return guarded('get', io, async () => {
    const jobs = new StreamJobs(connect(args));
    const found = args.job !== undefined ? [await jobs.read(args.job)] : await jobs.list(args['all-namespaces']);
    if (found.length === 0 && (args.output === 'table' || args.output === 'wide')) {
      const where = args['all-namespaces'] ? 'any namespace' : `namespace "${jobs.cluster.namespace}"`;
      io.stderr.write(`No StreamJobs found in ${where}.\n`);
      return 0;
    }
    io.stdout.write(print(args, found));
    return 0;
  });
}
