// `streamctl describe <job>`: one StreamJob as kubectl describe shows an object — what the spec asks for, what status
// reports (streamctl status's fields and conditions), the job's recent Events, its pods and its savepoints.
// Only the types of @kubernetes/client-node: its code loads every API group (see kube/api.ts).
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { PipelineStep, Sink, Source, StreamJob } from '@sluice/crds';
import { resourcePath } from '../../kube/api.js';
import { connect, explainApiError, type Cluster } from '../../kube/cluster.js';
import { guarded, type CommandIo } from '../../kube/io.js';
import type { ClusterArgs } from '../../kube/options.js';
import { age, formatFields, formatTable } from '../../kube/output.js';
import { StreamJobs } from '../../kube/streamjobs.js';
import { formatSavepoints } from '../savepoints/index.js';
import { formatStatus } from '../status/index.js';

/** The label the controller puts on a job's pods (controller/src/stream-job/resources.ts). */
export const jobLabel = 'sluice.dev/job';
/** kubectl describe shows the last events; older ones are a kubectl get events away. */
const recentEvents = 10;

/** Each connector's kind and what it reads or writes, in a table so a new connector is one line. */
const sourceConnectors: [kind: string, target: (source: Source) => string | undefined][] = [
  ['kafka topic', (source) => source.kafka?.topic],
  ['generator', (source) => source.generator?.workload],
  ['file', (source) => source.file?.path],
];

const sinkConnectors: [kind: string, target: (sink: Sink) => string | undefined][] = [
  ['kafka', (sink) => sink.kafka?.topic],
  ['redis', (sink) => sink.redis?.key],
  ['postgres', (sink) => sink.postgres?.table],
  ['s3', (sink) => sink.s3?.bucket],
  ['file', (sink) => sink.file?.path],
  ['stdout', (sink) => (sink.stdout === undefined ? undefined : '')],
];

function connector<T>(connectors: [string, (value: T) => string | undefined][], value: T): string {
  for (const [kind, target] of connectors) {
    const found = target(value);
    if (found !== undefined) return found === '' ? kind : `${kind} ${found}`;
  }
  return 'no connector';
}

function source(source: Source): string {
  const eventTime = source.eventTime === undefined ? '' : `, event time from ${source.eventTime.field}`;
  return `${source.name}: ${connector(sourceConnectors, source)}${eventTime}`;
}

function sink(sink: Sink): string {
  return `${sink.name}: ${connector(sinkConnectors, sink)}`;
}

/** A pipeline step in a few words: its operator, with the key or the window and its aggregates. */
function step(step: PipelineStep): string {
  if (step.window !== undefined) {
    const aggregates = step.aggregate === undefined ? '' : ` (${step.aggregate.map((aggregate) => aggregate.name).join(', ')})`;
    return `window ${step.window.type} ${step.window.size ?? ''}`.trimEnd() + aggregates;
  }
  if (step.keyBy !== undefined) return `keyBy ${step.keyBy.field ?? step.keyBy.expression ?? ''}`.trimEnd();
  return Object.keys(step).find((key) => key !== 'id') ?? '?';
}

/** What the spec asks for, one line a field. */
export function formatSpec(job: StreamJob): string {
  const spec = job.spec;
  return formatFields([
    ['Sources', spec.sources.map(source).join('\n')],
    ['Pipeline', (spec.pipeline ?? []).map(step).join(' → ') || 'none (records pass through)'],
    ['Sinks', spec.sinks.map(sink).join('\n')],
    ['Parallelism', `${spec.parallelism ?? 1}${spec.autoscaler === undefined ? '' : ', autoscaled'}${spec.suspend === true ? ', suspended' : ''}`],
    ['Upgrade mode', spec.upgradeMode ?? 'savepoint'],
    ['Image', spec.image ?? "the controller's default"],
  ]);
}

export function formatEvents(events: CoreV1Event[], now: Date = new Date()): string {
  if (events.length === 0) return 'Events: none\n';
  const when = (event: CoreV1Event) => event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  const newest = [...events].sort((a, b) => new Date(when(a) ?? 0).getTime() - new Date(when(b) ?? 0).getTime()).slice(-recentEvents);
  const rows = newest.map((event) => [
    event.type ?? '',
    event.reason ?? '',
    `${age(when(event), now)}${(event.count ?? 1) > 1 ? ` (x${event.count})` : ''}`,
    event.message ?? '',
  ]);
  return `Events:\n${formatTable(['TYPE', 'REASON', 'AGE', 'MESSAGE'], rows)}`;
}

export function formatPods(pods: V1Pod[], now: Date = new Date()): string {
  if (pods.length === 0) return 'Pods: none\n';
  const rows = pods.map((pod) => {
    const statuses = pod.status?.containerStatuses ?? [];
    const ready = `${statuses.filter((status) => status.ready).length}/${pod.spec?.containers.length ?? statuses.length}`;
    const waiting = statuses.map((status) => status.state?.waiting?.reason).find((reason) => reason !== undefined);
    const restarts = statuses.reduce((sum, status) => sum + status.restartCount, 0);
    return [
      pod.metadata?.name ?? '',
      ready,
      waiting ?? pod.status?.phase ?? '',
      String(restarts),
      age(pod.metadata?.creationTimestamp, now),
      pod.spec?.nodeName ?? '-',
    ];
  });
  return `Pods:\n${formatTable(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE'], rows)}`;
}

/** A core (v1) collection of the cluster's namespace: pods, events. */
const corePath = (cluster: Cluster, plural: string): string => resourcePath({ group: '', version: 'v1', namespace: cluster.namespace, plural });

async function eventsOf(cluster: Cluster, job: StreamJob): Promise<CoreV1Event[]> {
  const fieldSelector = `involvedObject.kind=StreamJob,involvedObject.name=${job.metadata.name}`;
  try {
    return (await cluster.api.request<{ items: CoreV1Event[] }>('GET', corePath(cluster, 'events'), { fieldSelector })).items;
  } catch (error) {
    throw explainApiError(error, cluster, () => `cannot list events in namespace "${cluster.namespace}"`);
  }
}

export async function podsOf(cluster: Cluster, name: string): Promise<V1Pod[]> {
  try {
    const pods = (await cluster.api.request<{ items: V1Pod[] }>('GET', corePath(cluster, 'pods'), { labelSelector: `${jobLabel}=${name}` })).items;
    return pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '', undefined, { numeric: true }));
  } catch (error) {
    throw explainApiError(error, cluster, () => `cannot list pods in namespace "${cluster.namespace}"`);
  }
}

export function describe(args: ClusterArgs & { job: string }, io: CommandIo): Promise<number> {
  return guarded('describe', io, async () => {
    const cluster = connect(args);
    const job = await new StreamJobs(cluster).read(args.job);
    const [events, pods] = await Promise.all([eventsOf(cluster, job), podsOf(cluster, args.job)]);
    const savepoints = [...(job.status?.savepoints ?? [])].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
    io.stdout.write(
      [
        formatSpec(job),
        formatStatus(job),
        formatPods(pods),
        savepoints.length === 0 ? 'Savepoints: none yet\n' : `Savepoints:\n${formatSavepoints(savepoints)}`,
        formatEvents(events),
      ].join('\n'),
    );
    return 0;
  });
}
