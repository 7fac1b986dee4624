// Runtime pod failures: what the controller reads from a pod's container status and termination message, and the RuntimeHealthy condition it writes.
import type { V1Pod } from '@kubernetes/client-node';
import { podFailuresOf, runtimeErrorOf, runtimeHealth, type RuntimePod } from './pod-failures.js';

const failedLine =
  '{"level":50,"event":"failed","error":"redis sink: writing to 127.0.0.1:1234 failed 3 times (a write failed: Command timed out)","code":"SLUICE_E_SINK_UNAVAILABLE"}';
const crashedAt = new Date('2026-12-07T11:02:55Z');

/** fraud-0 as the kubelet reports it after its runtime failed `restarts` times, waiting to start again. */
function crashLooping(name: string, restarts: number, finishedAt = crashedAt, message = `{"event":"started"}\n${failedLine}\n`): V1Pod {
  return {
    metadata: { name },
    status: {
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: finishedAt }],
      containerStatuses: [
        {
          name: 'runtime',
          image: 'sluice-runtime',
          imageID: '',
          ready: false,
          restartCount: restarts,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt, message } },
        },
      ],
    },
  };
}

/** The same pod started again and Ready since `readySince`. */
function readyAgain(pod: V1Pod, readySince: Date): V1Pod {
  const container = pod.status!.containerStatuses![0]!;
  return {
    ...pod,
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }],
      containerStatuses: [{ ...container, ready: true, state: { running: { startedAt: readySince } } }],
    },
  };
}

function runtimePod(pod: V1Pod): RuntimePod {
  return { name: pod.metadata!.name!, failures: podFailuresOf(pod) };
}

const at = (seconds: number): Date => new Date(crashedAt.getTime() + seconds * 1000);

describe("the runtime's words in a termination message", () => {
  it("takes the error and code of the last failed line, whatever the kubelet's tail holds before it", () => {
    const tail = `{"event":"committed"}\n{"event":"failed","error":"earlier"}\nnot json "failed"\n${failedLine}\n{"event":"stopped"}\n`;
    expect(runtimeErrorOf(tail)).toEqual({
      error: 'redis sink: writing to 127.0.0.1:1234 failed 3 times (a write failed: Command timed out)',
      code: 'SLUICE_E_SINK_UNAVAILABLE',
    });
  });

  it('falls back to the raw tail, its last 1,024 characters, when no failed line parses (a crash before the logger, a line cut by the 2,048-byte bound)', () => {
    expect(runtimeErrorOf('node:internal/modules: Cannot find module x\n')).toEqual({ error: 'node:internal/modules: Cannot find module x', code: undefined });
    const cut = `"event":"failed","error":"${'x'.repeat(3000)}end"}`;
    const { error } = runtimeErrorOf(cut);
    expect(error).toHaveLength(1025);
    expect(error.startsWith('…')).toBe(true);
    expect(error.endsWith('end"}')).toBe(true);
  });

  it('bounds a long error of a failed line to 1,024 characters too', () => {
    expect(runtimeErrorOf(JSON.stringify({ event: 'failed', error: 'y'.repeat(5000) })).error).toHaveLength(1025);
  });
});

describe('what the observer records of a runtime pod', () => {
  it('reads restarts, the waiting reason and the last exit with its message', () => {
    expect(podFailuresOf(crashLooping('fraud-0', 3))).toEqual({
      restartCount: 3,
      waitingReason: 'CrashLoopBackOff',
      readySince: undefined,
      lastFailure: {
        exitCode: 1,
        reason: 'Error',
        finishedAt: crashedAt,
        error: 'redis sink: writing to 127.0.0.1:1234 failed 3 times (a write failed: Command timed out)',
        code: 'SLUICE_E_SINK_UNAVAILABLE',
      },
    });
  });

  it('takes timestamps as the API client gives them, strings or Dates', () => {
    const pod = crashLooping('fraud-0', 1);
    pod.status!.containerStatuses![0]!.lastState!.terminated!.finishedAt = '2026-12-07T11:02:55Z' as unknown as Date;
    expect(podFailuresOf(pod).lastFailure?.finishedAt).toEqual(crashedAt);
  });

  it('sees no failure in an exit 0, and the reason of an exit without a message (OOMKilled)', () => {
    const clean = crashLooping('fraud-0', 1);
    clean.status!.containerStatuses![0]!.lastState!.terminated!.exitCode = 0;
    expect(podFailuresOf(clean).lastFailure).toBeUndefined();
    const killed = crashLooping('fraud-0', 1, crashedAt, '');
    Object.assign(killed.status!.containerStatuses![0]!.lastState!.terminated!, { exitCode: 137, reason: 'OOMKilled' });
    expect(runtimeHealth([runtimePod(killed)], undefined, at(1)).condition?.message).toBe(
      'pod fraud-0 last exited 137 at 2026-12-07T11:02:55Z, restarted 1 time (CrashLoopBackOff): OOMKilled',
    );
  });
});

describe('the RuntimeHealthy condition', () => {
  it('is False naming the pod, its restarts, its last exit and the runtime error, with one new failure to report', () => {
    const health = runtimeHealth([runtimePod(crashLooping('fraud-0', 3))], undefined, at(1));
    expect(health.condition).toEqual({
      type: 'RuntimeHealthy',
      status: 'False',
      reason: 'RuntimeFailing',
      message:
        'pod fraud-0 last exited 1 at 2026-12-07T11:02:55Z, restarted 3 times (CrashLoopBackOff): redis sink: writing to 127.0.0.1:1234 failed 3 times (a write failed: Command timed out) [SLUICE_E_SINK_UNAVAILABLE]',
    });
    expect(health.newFailures).toEqual([health.condition!.message]);
  });

  it('leaves out the restart count before the first restart, as the kubelet counts a restart when the container starts again', () => {
    expect(runtimeHealth([runtimePod(crashLooping('fraud-0', 0))], undefined, at(1)).condition?.message).toMatch(
      /^pod fraud-0 last exited 1 at 2026-12-07T11:02:55Z \(CrashLoopBackOff\): redis sink/,
    );
  });

  it('reports a failure once: the same exit seen again, or after the restart count moved on, is not new', () => {
    const first = runtimeHealth([runtimePod(crashLooping('fraud-0', 3))], undefined, at(1));
    const previous = { ...first.condition!, lastTransitionTime: '2026-12-07T11:02:56Z' };
    expect(runtimeHealth([runtimePod(crashLooping('fraud-0', 3))], previous, at(2)).newFailures).toEqual([]);
    expect(runtimeHealth([runtimePod(readyAgain(crashLooping('fraud-0', 4), at(12)))], previous, at(13)).newFailures).toEqual([]);
    expect(runtimeHealth([runtimePod(crashLooping('fraud-0', 4, at(20))), runtimePod(crashLooping('fraud-1', 1))], previous, at(21)).newFailures).toEqual([
      expect.stringContaining('pod fraud-0 last exited 1 at 2026-12-07T11:03:15Z, restarted 4 times'),
      expect.stringContaining('pod fraud-1 last exited 1 at 2026-12-07T11:02:55Z, restarted 1 time'),
    ]);
  });

  it('stays False while the pod has been ready for less than 30 s since its failure, then turns True', () => {
    const previous = { ...runtimeHealth([runtimePod(crashLooping('fraud-0', 3))], undefined, at(1)).condition!, lastTransitionTime: '2026-12-07T11:02:56Z' };
    const ready = runtimePod(readyAgain(crashLooping('fraud-0', 3), at(12)));
    expect(runtimeHealth([ready], previous, at(41)).condition?.status).toBe('False');
    expect(runtimeHealth([ready], previous, at(42)).condition).toEqual({
      type: 'RuntimeHealthy',
      status: 'True',
      reason: 'RuntimeRecovered',
      message: 'every runtime pod has been ready for 30s since its last failure',
    });
  });

  it('counts a pod Ready since before its last failure as failing (the status lags the exit)', () => {
    const stale = runtimePod(readyAgain(crashLooping('fraud-0', 3), at(-60)));
    expect(runtimeHealth([stale], undefined, at(1)).condition?.status).toBe('False');
  });

  it('is not written for a job whose pods never failed, and names three failing pods of five one by one', () => {
    const neverFailed: V1Pod = {
      metadata: { name: 'fraud-0' },
      status: { containerStatuses: [{ name: 'runtime', image: 'sluice-runtime', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
    };
    expect(runtimeHealth([runtimePod(neverFailed)], undefined, at(1))).toEqual({ condition: undefined, newFailures: [] });
    const five = ['fraud-0', 'fraud-1', 'fraud-2', 'fraud-3', 'fraud-4'].map((name) => runtimePod(crashLooping(name, 2)));
    const { condition, newFailures } = runtimeHealth(five, undefined, at(1));
    expect(condition?.message).toMatch(/^pod fraud-0 .*; pod fraud-1 .*; pod fraud-2 .*; and 2 more failing pods \(fraud-3, fraud-4\)$/);
    expect(newFailures).toHaveLength(5);
  });
});
