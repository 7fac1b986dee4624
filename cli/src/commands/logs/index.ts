// `streamctl logs <job> [-f]`: the logs of all of a StreamJob's pods, each line prefixed `[pod]`, as `kubectl logs -l
// sluice.dev/job=<job> --prefix` would print them, but with every pod (kubectl follows at most 5).
import { Writable } from 'node:stream';
// Only the types of @kubernetes/client-node: its code loads every API group (see kube/api.ts).
import type { V1Pod } from '@kubernetes/client-node';
import { resourcePath } from '../../kube/api.js';
import { connect, explainApiError } from '../../kube/cluster.js';
import { CommandError, guarded, type CommandIo, type Writer } from '../../kube/io.js';
import type { ClusterArgs } from '../../kube/options.js';
import { StreamJobs } from '../../kube/streamjobs.js';
import { podsOf } from '../describe/index.js';

export interface LogsArgs extends ClusterArgs {
  job: string;
  follow: boolean;
  tail?: number;
  previous: boolean;
}

/** A stream that writes whole lines to `out`, each after `prefix`; a last line without a newline is written at the end. */
export function prefixedLines(prefix: string, out: Writer): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      if (lines.length > 0) out.write(lines.map((line) => `${prefix}${line}\n`).join(''));
      done();
    },
    final(done) {
      if (partial !== '') out.write(`${prefix}${partial}\n`);
      done();
    },
  });
}

/** True when the pod's first container has run (or, for --previous, has a run before this one): it has logs. */
function startedContainer(pod: V1Pod, previous: boolean): boolean {
  const status = pod.status?.containerStatuses?.[0];
  if (status === undefined) return false;
  return previous ? status.lastState?.terminated !== undefined : status.state?.running !== undefined || status.state?.terminated !== undefined;
}

function podState(pod: V1Pod): string {
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  return [pod.status?.phase ?? 'Pending', waiting].filter(Boolean).join(', ');
}

export function logs(args: LogsArgs, io: CommandIo): Promise<number> {
  return guarded('logs', io, async () => {
    const cluster = connect(args);
    // Read first, so a job that does not exist is named as such rather than as a job without pods.
    const job = await new StreamJobs(cluster).read(args.job);
    const pods = await podsOf(cluster, args.job);
    if (pods.length === 0) {
      const why = job.spec.suspend === true ? 'it is suspended' : `its phase is ${job.status?.phase ?? 'not reported yet'}`;
      throw new CommandError(`streamjob "${args.job}" has no pods (${why}); streamctl describe ${args.job} says why`);
    }
    const started = pods.filter((pod) => startedContainer(pod, args.previous));
    for (const pod of pods.filter((candidate) => !started.includes(candidate))) {
      io.stderr.write(`${pod.metadata?.name}: no logs yet (${podState(pod)}); streamctl describe ${args.job} shows why\n`);
    }
    const query = { follow: args.follow, previous: args.previous, tailLines: args.tail };
    const width = Math.max(...pods.map((pod) => (pod.metadata?.name ?? '').length));
    const follow = async (pod: V1Pod): Promise<void> => {
      const name = pod.metadata?.name ?? '';
      const lines = prefixedLines(`[${name}] `.padEnd(width + 3), io.stdout);
      const path = resourcePath({ group: '', version: 'v1', namespace: cluster.namespace, plural: 'pods', name, subresource: 'log' });
      try {
        await cluster.api.stream(path, { container: pod.spec?.containers[0]?.name, ...query }, lines);
      } catch (error) {
        throw explainApiError(error, cluster, () => `pod ${name} is gone; run streamctl logs ${args.job} again`);
      }
    };
    await Promise.all(started.map(follow));
    return 0;
  });
}
