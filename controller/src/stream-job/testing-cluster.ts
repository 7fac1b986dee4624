// The objects a StreamJob owns, in memory: a StatefulSet (OnDelete, Parallel) whose pods start runtimes on a TestingRuntimeControl when the test lets the cluster move (tick).
import { createHash } from 'node:crypto';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { StreamJob, StreamJobSpec, Topic } from '@sluice/crds';
import type { TestingResources } from '../machinery/testing-resources.js';
import type { OwnedObjects } from './owned-objects.js';
import { statefulSet, type Deployment } from './resources.js';
import type { TestingRuntimeControl } from './testing-runtime-control.js';

const defaults = { image: 'ghcr.io/sluice/sluice-runtime:0.1.0', kafkaBrokers: ['kafka:9092'] };

export class TestingCluster implements OwnedObjects {
  #statefulSet: V1StatefulSet | undefined;
  #pods: V1Pod[] = [];
  readonly #configMaps = new Map<string, StreamJobSpec>();
  #podCount = 0;
  /** Changelog Topics created, by name; they report Ready unless `topicsReady` is false. */
  readonly topics = new Map<string, Topic>();
  topicsReady = true;
  /** A pod for which this says true never runs its runtime (an image no node has): it waits in ImagePullBackOff. */
  cannotStart: (pod: V1Pod) => boolean = (pod) => pod.spec?.containers[0]?.image?.includes('no-such-runtime') === true;
  /** Every change the controller made, in order: `deploy <hash> g<generation> x<replicas> from <restoreFrom>`, `delete <pod>`, `scale <n>`. */
  readonly changes: string[] = [];
  /** When set, the next write (deploy, deletePod) throws this, once: a controller that crashed at that point. */
  crashOnNextWrite: Error | undefined;

  constructor(
    private readonly jobs: TestingResources<StreamJob>,
    private readonly control: TestingRuntimeControl,
  ) {}

  controlToken(): Promise<string> {
    return Promise.resolve(this.control.token);
  }

  ensureService(): Promise<void> {
    return Promise.resolve();
  }

  ensureTopics(topics: readonly Topic[]): Promise<Topic[]> {
    for (const topic of topics) if (!this.topics.has(topic.metadata.name!)) this.topics.set(topic.metadata.name!, structuredClone(topic));
    const status = {
      conditions: [{ type: 'Ready', status: this.topicsReady ? 'True' : 'False', reason: 'Ready', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    return Promise.resolve(topics.map((topic) => ({ ...structuredClone(this.topics.get(topic.metadata.name!)!), status }) as Topic));
  }

  statefulSet(): Promise<V1StatefulSet | undefined> {
    return Promise.resolve(structuredClone(this.#statefulSet));
  }

  pods(): Promise<V1Pod[]> {
    return Promise.resolve(structuredClone(this.#pods).sort((a, b) => ordinal(a) - ordinal(b)));
  }

  deploy(job: StreamJob, deployment: Deployment): Promise<void> {
    this.#crashPoint();
    this.#configMaps.set(deployment.hash, structuredClone(deployment.spec));
    const desired = statefulSet(job, deployment, defaults);
    const generation = (this.#statefulSet?.metadata?.generation ?? 0) + 1;
    desired.metadata = { ...desired.metadata, generation };
    desired.status = { ...(this.#statefulSet?.status ?? { replicas: 0 }) };
    this.#statefulSet = desired;
    this.changes.push(
      `deploy ${deployment.hash} g${deployment.generation} x${deployment.replicas}${deployment.restoreFrom === undefined ? '' : ` from ${deployment.restoreFrom}`}`,
    );
    return Promise.resolve();
  }

  deployedSpec(_job: StreamJob, hash: string): Promise<StreamJobSpec | undefined> {
    return Promise.resolve(structuredClone(this.#configMaps.get(hash)));
  }

  /** As the scale subresource does: spec.parallelism changes, and with it the job's generation. */
  async scale(job: StreamJob, parallelism: number): Promise<void> {
    const current = (await this.jobs.get({ namespace: job.metadata.namespace!, name: job.metadata.name! }))!;
    this.jobs.apply({ ...current, spec: { ...current.spec, parallelism } });
    this.changes.push(`scale ${parallelism}`);
  }

  deletePod(_job: StreamJob, pod: V1Pod): Promise<void> {
    this.#crashPoint();
    const stored = this.#pods.find((candidate) => candidate.metadata?.uid === pod.metadata?.uid);
    if (stored !== undefined && stored.metadata!.deletionTimestamp === undefined) {
      stored.metadata!.deletionTimestamp = new Date(0);
      this.changes.push(`delete ${pod.metadata!.name!}`);
    }
    return Promise.resolve();
  }

  deleteConfigMapsExcept(_job: StreamJob, keptHashes: readonly string[]): Promise<void> {
    for (const hash of [...this.#configMaps.keys()]) if (!keptHashes.includes(hash)) this.#configMaps.delete(hash);
    return Promise.resolve();
  }

  /** The ConfigMaps left, by spec hash. */
  configMapHashes(): string[] {
    return [...this.#configMaps.keys()];
  }

  /**
   * The StatefulSet controller and the kubelets catch up: deleted pods go, missing ordinals get a pod of the latest
   * template (which starts a runtime unless `cannotStart`), surplus ordinals are removed, and readiness follows the
   * runtime's phase.
   */
  tick(now: Date): void {
    const set = this.#statefulSet;
    if (set === undefined) return;
    const revision = createHash('sha256').update(JSON.stringify(set.spec!.template)).digest('hex').slice(0, 10);
    set.status = { ...set.status, replicas: set.spec!.replicas!, observedGeneration: set.metadata!.generation!, updateRevision: revision };
    const replicas = set.spec!.replicas ?? 0;
    for (const pod of this.#pods) if (pod.metadata!.deletionTimestamp !== undefined || ordinal(pod) >= replicas) this.control.remove(address(pod));
    this.#pods = this.#pods.filter((pod) => pod.metadata!.deletionTimestamp === undefined && ordinal(pod) < replicas);
    for (let index = 0; index < replicas; index++) {
      if (!this.#pods.some((pod) => ordinal(pod) === index)) this.#pods.push(this.#createPod(set, index, revision));
    }
    for (const pod of this.#pods) {
      const runtime = this.control.runtime(address(pod));
      const ready = runtime !== undefined && runtime.answering && runtime.phase === 'running';
      const previous = pod.status!.conditions![0]!;
      if ((previous.status === 'True') !== ready) pod.status!.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }];
    }
  }

  #createPod(set: V1StatefulSet, index: number, revision: string): V1Pod {
    const count = ++this.#podCount;
    const name = `${set.metadata!.name!}-${index}`;
    const pod: V1Pod = {
      metadata: {
        name,
        namespace: set.metadata!.namespace!,
        uid: `pod-${count}`,
        labels: { ...set.spec!.template.metadata!.labels, 'apps.kubernetes.io/pod-index': String(index), 'controller-revision-hash': revision },
      },
      spec: structuredClone(set.spec!.template.spec!),
      status: { podIP: `10.0.0.${count}`, conditions: [{ type: 'Ready', status: 'False' }] },
    };
    if (this.cannotStart(pod)) {
      pod.status!.containerStatuses = [
        {
          name: 'runtime',
          image: pod.spec!.containers[0]!.image!,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff' } },
        },
      ];
    } else {
      this.control.start(address(pod), { job: set.metadata!.name!, ordinal: index, parallelism: set.spec!.replicas! });
    }
    return pod;
  }

  #crashPoint(): void {
    const crash = this.crashOnNextWrite;
    this.crashOnNextWrite = undefined;
    if (crash !== undefined) throw crash;
  }
}

/** How the controller reaches a pod in these tests: podIpAddress(8080), as in a cluster. */
export function address(pod: V1Pod): string {
  return `http://${pod.status!.podIP!}:8080`;
}

function ordinal(pod: V1Pod): number {
  return Number(pod.metadata!.labels!['apps.kubernetes.io/pod-index']);
}
