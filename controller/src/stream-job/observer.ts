// The observer: what a StreamJob's world looks like now — the deployed spec, its pods, and what each runtime pod reports. It decides nothing.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { RuntimeStatus, StreamJob } from '@sluice/crds';
import { ordinalOf } from './job-objects.js';
import type { OwnedObjects } from './owned-objects.js';
import { generationAnnotation, restartNonceAnnotation, restoreFromAnnotation, specHashAnnotation } from './resources.js';
import { podFailuresOf, type PodFailures } from './pod-failures.js';
import type { RuntimeControl } from './runtime-control.js';

/** How the controller reaches a pod's control API; in a cluster, its IP and the runtime's port. */
export type PodAddress = (pod: V1Pod) => string | undefined;

export interface DeployedSpec {
  hash: string;
  generation: number;
  restartNonce: string | undefined;
  restoreFrom: string | undefined;
  replicas: number;
  /** The StatefulSet controller has seen the latest template (its updateRevision is current). */
  settled: boolean;
  updateRevision: string | undefined;
}

export interface ObservedPod {
  pod: V1Pod;
  name: string;
  ordinal: number;
  /** The pod runs the StatefulSet's latest template. */
  current: boolean;
  ready: boolean;
  terminating: boolean;
  address: string | undefined;
  /** What the runtime answered on GET /status, when it answered. */
  runtime: RuntimeStatus | undefined;
  /** What its kubelet says of the runtime container: restarts, why it waits, how it last failed. */
  failures: PodFailures;
}

export interface Observation {
  deployed: DeployedSpec | undefined;
  pods: ObservedPod[];
  lag: number | undefined;
  /** The least watermark over the job's partitions, epoch ms. */
  watermark: number | undefined;
}

export function deployedSpec(statefulSet: V1StatefulSet): DeployedSpec {
  const annotations = statefulSet.metadata?.annotations ?? {};
  const generation = statefulSet.metadata?.generation ?? 0;
  return {
    hash: annotations[specHashAnnotation] ?? '',
    generation: Number(annotations[generationAnnotation] ?? 0),
    restartNonce: annotations[restartNonceAnnotation],
    restoreFrom: annotations[restoreFromAnnotation],
    replicas: statefulSet.spec?.replicas ?? 0,
    settled: (statefulSet.status?.observedGeneration ?? 0) >= generation,
    updateRevision: statefulSet.status?.updateRevision,
  };
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
}

export async function observe(
  job: StreamJob,
  deps: { objects: OwnedObjects; control: RuntimeControl; podAddress: PodAddress; token: string },
): Promise<Observation> {
  const statefulSet = await deps.objects.statefulSet(job);
  const deployed = statefulSet === undefined ? undefined : deployedSpec(statefulSet);
  const pods = statefulSet === undefined ? [] : await deps.objects.pods(job);
  const observed = await Promise.all(
    pods.map(async (pod): Promise<ObservedPod> => {
      const address = deps.podAddress(pod);
      const terminating = pod.metadata?.deletionTimestamp !== undefined;
      const runtime = address === undefined || terminating ? undefined : await deps.control.status(address, deps.token).catch(() => undefined);
      return {
        pod,
        name: pod.metadata!.name!,
        ordinal: ordinalOf(pod),
        current: deployed?.updateRevision !== undefined && pod.metadata?.labels?.['controller-revision-hash'] === deployed.updateRevision,
        ready: isReady(pod),
        terminating,
        address,
        runtime,
        failures: podFailuresOf(pod),
      };
    }),
  );
  const partitions = observed.flatMap((pod) => pod.runtime?.partitions ?? []);
  const lags = partitions.map((partition) => partition.lag).filter((lag): lag is number => lag !== null);
  const watermarks = partitions.map((partition) => partition.watermark).filter((watermark): watermark is number => typeof watermark === 'number');
  return {
    deployed,
    pods: observed,
    lag: lags.length === 0 ? undefined : lags.reduce((sum, lag) => sum + lag, 0),
    watermark: watermarks.length === 0 || watermarks.length < partitions.length ? undefined : Math.min(...watermarks),
  };
}

/** Every pod of the deployment runs its latest template, is ready, and its runtime says it is running. */
export function deploymentReady(observation: Observation): boolean {
  const { deployed, pods } = observation;
  if (deployed === undefined || !deployed.settled) return false;
  const live = pods.filter((pod) => !pod.terminating);
  if (deployed.replicas === 0) return pods.length === 0;
  return live.length === deployed.replicas && pods.length === live.length && live.every((pod) => pod.current && pod.ready && pod.runtime?.phase === 'running');
}

/** The default way to reach a pod: its IP and the runtime's port. */
export function podIpAddress(port: number): PodAddress {
  return (pod) => (pod.status?.podIP === undefined ? undefined : `http://${pod.status.podIP}:${port}`);
}
