// A Pod's status as a kubelet reports it, computed from what its containers' processes are doing.
import type { V1ContainerState, V1ContainerStateTerminated, V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** One container as the pod worker tracks it. */
export interface ContainerView {
  name: string;
  image: string;
  state: V1ContainerState;
  lastTerminated: V1ContainerStateTerminated | undefined;
  restartCount: number;
  ready: boolean;
  /** Whether a process of it ran at some time: before that the Pod is Pending. */
  everStarted: boolean;
  pid: number | undefined;
}

export function containerStatus(container: ContainerView): V1ContainerStatus {
  return {
    name: container.name,
    image: container.image,
    imageID: container.image,
    ...(container.pid === undefined ? {} : { containerID: `process://${container.pid}` }),
    state: container.state,
    lastState: container.lastTerminated === undefined ? {} : { terminated: container.lastTerminated },
    ready: container.ready,
    restartCount: container.restartCount,
    started: container.state.running !== undefined,
  };
}

/** Pending until every container has run; Succeeded or Failed once all have terminated for good; Running otherwise. */
export function podPhase(containers: ContainerView[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (containers.some((container) => !container.everStarted)) return 'Pending';
  const terminated = containers.map((container) => container.state.terminated);
  if (terminated.every((state) => state !== undefined)) return terminated.every((state) => state?.exitCode === 0) ? 'Succeeded' : 'Failed';
  return 'Running';
}

/** Conditions keep their lastTransitionTime until their status changes. */
export class Conditions {
  private readonly byType = new Map<string, V1PodCondition>();

  set(type: string, status: boolean, reason?: string): void {
    const value = status ? 'True' : 'False';
    const previous = this.byType.get(type);
    if (previous?.status === value && previous.reason === reason) return;
    const changed = previous?.status !== value;
    this.byType.set(type, {
      type,
      status: value,
      ...(reason === undefined ? {} : { reason }),
      lastTransitionTime: changed ? new Date() : previous.lastTransitionTime,
    });
  }

  list(): V1PodCondition[] {
    return [...this.byType.values()];
  }
}

/** `podIP` is the Pod's own address, once it has one; the node's address (hostIP) is 127.0.0.1. */
export function podStatus(containers: ContainerView[], conditions: Conditions, startTime: Date, podIP: string | undefined): V1PodStatus {
  const phase = podPhase(containers);
  const allReady = containers.every((container) => container.ready);
  const done = phase === 'Succeeded' || phase === 'Failed';
  conditions.set('PodScheduled', true);
  conditions.set('Initialized', true);
  conditions.set('ContainersReady', allReady, allReady ? undefined : done ? 'PodCompleted' : 'ContainersNotReady');
  conditions.set('Ready', allReady, allReady ? undefined : done ? 'PodCompleted' : 'ContainersNotReady');
  return {
    phase,
    conditions: conditions.list(),
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    ...(podIP === undefined ? {} : { podIP, podIPs: [{ ip: podIP }] }),
    startTime,
    containerStatuses: containers.map(containerStatus),
  };
}
