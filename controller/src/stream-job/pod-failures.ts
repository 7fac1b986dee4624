// A runtime pod's failures as its kubelet reports them (restarts, the last exit and its message), and what the StreamJob's RuntimeHealthy condition says of them.
import type { V1ContainerStateTerminated, V1Pod } from '@kubernetes/client-node';
import type { Condition } from '@sluice/crds';
import type { NewCondition } from '../machinery/conditions.js';

/** The runtime container's name in the StatefulSet (resources.ts). */
const runtimeContainer = 'runtime';
/** How much of a runtime's error a condition quotes: its error lines are bounded, a raw log tail is not. */
export const maxErrorChars = 1024;
/** A pod that failed counts as recovered once it has been Ready this long since after its last exit. */
export const recoveredAfterMs = 30_000;
/** How many failing pods a condition names one by one; the others it counts. */
const maxPodsNamed = 3;

/** The last time the runtime container ended with a non-zero exit code. */
export interface LastFailure {
  exitCode: number;
  /** Why the kubelet says it ended: Error, OOMKilled, … */
  reason: string | undefined;
  finishedAt: Date | undefined;
  /** The runtime's own error: the `error` of its last `"event":"failed"` log line, else the log's tail. */
  error: string | undefined;
  /** The `SLUICE_E_…` code of that line. */
  code: string | undefined;
}

/** What the kubelet says of a runtime pod's container: how often it restarted, why it waits, and how it last failed. */
export interface PodFailures {
  restartCount: number;
  /** Why the container is not running, e.g. CrashLoopBackOff. */
  waitingReason: string | undefined;
  lastFailure: LastFailure | undefined;
  /** Since when the pod is Ready, when it is. */
  readySince: Date | undefined;
}

export function podFailuresOf(pod: V1Pod): PodFailures {
  const container = pod.status?.containerStatuses?.find((status) => status.name === runtimeContainer);
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  // A container that will not restart keeps its end in state; one that restarts, in lastState.
  const terminated = container?.state?.terminated ?? container?.lastState?.terminated;
  return {
    restartCount: container?.restartCount ?? 0,
    waitingReason: container?.state?.waiting?.reason,
    lastFailure: terminated === undefined || terminated.exitCode === 0 ? undefined : lastFailureOf(terminated),
    readySince: ready?.lastTransitionTime === undefined ? undefined : new Date(ready.lastTransitionTime),
  };
}

function lastFailureOf(terminated: V1ContainerStateTerminated): LastFailure {
  const said = terminated.message === undefined || terminated.message.trim() === '' ? undefined : runtimeErrorOf(terminated.message);
  return {
    exitCode: terminated.exitCode,
    reason: terminated.reason,
    finishedAt: terminated.finishedAt === undefined ? undefined : new Date(terminated.finishedAt),
    error: said?.error,
    code: said?.code,
  };
}

/** The runtime's words in a termination message (a log tail): its last `failed` line's error and code, or the tail itself. */
export function runtimeErrorOf(message: string): { error: string; code: string | undefined } {
  const lines = message.split('\n');
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index]!;
    if (!line.includes('"failed"')) continue;
    const failed = parseObject(line);
    if (failed?.event === 'failed' && typeof failed.error === 'string') {
      return { error: bounded(failed.error), code: typeof failed.code === 'string' ? failed.code : undefined };
    }
  }
  return { error: bounded(message.trim()), code: undefined };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    // a line cut by the kubelet's 2,048-byte bound, or plain text
    return undefined;
  }
}

/** The last maxErrorChars of a text: a log's end says why the process stopped. */
function bounded(text: string): string {
  return text.length <= maxErrorChars ? text : `…${text.slice(text.length - maxErrorChars)}`;
}

/** A pod whose last exit failed and that has not been Ready for recoveredAfterMs since. */
export function isFailing(failures: PodFailures, now: Date): boolean {
  const failure = failures.lastFailure;
  if (failure === undefined) return false;
  const { readySince } = failures;
  if (readySince === undefined) return true;
  const readyAfterFailure = failure.finishedAt === undefined || readySince.getTime() >= failure.finishedAt.getTime();
  return !(readyAfterFailure && now.getTime() - readySince.getTime() >= recoveredAfterMs);
}

export interface RuntimePod {
  name: string;
  failures: PodFailures;
}

/** "pod fraud-0 last exited 1 at 2026-12-07T11:02:55Z, restarted 3 times (CrashLoopBackOff): redis sink: … [SLUICE_E_…]" */
export function describeFailure(pod: RuntimePod): string {
  const { restartCount, waitingReason, lastFailure } = pod.failures;
  // The kubelet counts a restart when the container starts again, so right after the first exit there is none yet.
  const restarts = restartCount === 0 ? '' : `, restarted ${restartCount} ${restartCount === 1 ? 'time' : 'times'}`;
  const waiting = waitingReason === undefined ? '' : ` (${waitingReason})`;
  const why = lastFailure!.error ?? lastFailure!.reason ?? 'no message';
  return `${failureKey(pod)}${restarts}${waiting}: ${why}${lastFailure!.code === undefined ? '' : ` [${lastFailure!.code}]`}`;
}

export const RuntimeHealthReason = { RuntimeFailing: 'RuntimeFailing', RuntimeRecovered: 'RuntimeRecovered' } as const;

export interface RuntimeHealth {
  /** The RuntimeHealthy condition to write, or undefined when there is none to write (no pod ever failed). */
  condition: NewCondition | undefined;
  /** One line per pod failure the previous condition did not already report: each is one Warning Event. */
  newFailures: string[];
}

/**
 * RuntimeHealthy: False while a runtime pod fails (naming the pod, its restarts, its last exit and the runtime's own
 * error), True again once every pod has been Ready for recoveredAfterMs since after its last failure. A job whose pods
 * never failed gets no such condition. A failure is new when the previous condition does not name its pod and exit
 * time, so a reconcile run twice, or by a restarted controller, reports it once.
 */
export function runtimeHealth(pods: readonly RuntimePod[], previous: Condition | undefined, now: Date): RuntimeHealth {
  const failing = pods.filter((pod) => isFailing(pod.failures, now));
  if (failing.length === 0) {
    if (previous === undefined) return { condition: undefined, newFailures: [] };
    return {
      condition: {
        type: 'RuntimeHealthy',
        status: 'True',
        reason: RuntimeHealthReason.RuntimeRecovered,
        message: `every runtime pod has been ready for ${recoveredAfterMs / 1000}s since its last failure`,
      },
      newFailures: [],
    };
  }
  const lines = failing.map(describeFailure);
  const others = failing.length - maxPodsNamed;
  const named = lines.slice(0, maxPodsNamed).join('; ');
  const message =
    others > 0
      ? `${named}; and ${others} more failing pods (${failing
          .slice(maxPodsNamed)
          .map((pod) => pod.name)
          .join(', ')})`
      : named;
  const reported = previous?.status === 'False' ? previous.message : '';
  const newFailures = failing.filter((pod) => !reported.includes(failureKey(pod))).map(describeFailure);
  return { condition: { type: 'RuntimeHealthy', status: 'False', reason: RuntimeHealthReason.RuntimeFailing, message }, newFailures };
}

/** What names one failure in a condition's message: the pod, its exit code and when it exited (the restart count moves on after it). */
function failureKey({ name, failures }: RuntimePod): string {
  const { exitCode, finishedAt } = failures.lastFailure!;
  return `pod ${name} last exited ${exitCode}${finishedAt === undefined ? '' : ` at ${rfc3339(finishedAt)}`}`;
}

/** metav1.Time is whole seconds in RFC 3339. */
function rfc3339(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}
