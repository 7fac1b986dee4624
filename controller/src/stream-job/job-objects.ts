// The Kubernetes side of one StreamJob: read and write its Secret, ConfigMaps, Service, StatefulSet, Pods and changelog Topics.
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { group, version, type StreamJob, type StreamJobSpec, type Topic } from '@sluice/crds';
import { parse } from 'yaml';
import { isConflict, isNotFound } from '../machinery/kube-errors.js';
import {
  configMapName,
  controlSecret,
  controlSecretName,
  headlessService,
  jobConfigMap,
  jobLabel,
  selectorOf,
  statefulSet,
  volumeClaimAnnotation,
  type Deployment,
  type RuntimeDefaults,
} from './resources.js';

const fieldManager = 'sluice-controller';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates, tolerating a concurrent create (an earlier reconcile that crashed after the API server took it). */
async function createOnce(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

export class JobObjects {
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #custom: CustomObjectsApi;

  constructor(
    kubeconfig: KubeConfig,
    private readonly defaults: RuntimeDefaults,
  ) {
    this.#core = kubeconfig.makeApiClient(CoreV1Api);
    this.#apps = kubeconfig.makeApiClient(AppsV1Api);
    this.#custom = kubeconfig.makeApiClient(CustomObjectsApi);
  }

  /** The control token of the job's Secret, created with a random token the first time. */
  async controlToken(job: StreamJob): Promise<string> {
    const namespace = job.metadata.namespace!;
    const name = controlSecretName(job);
    const existing = await orUndefined(this.#core.readNamespacedSecret({ namespace, name }));
    if (existing === undefined) {
      await createOnce(this.#core.createNamespacedSecret({ namespace, body: controlSecret(job, randomBytes(32).toString('hex')), fieldManager }));
      return this.controlToken(job);
    }
    const token = existing.data?.token;
    if (token === undefined) throw new Error(`Secret ${namespace}/${name} has no key token: delete it and Sluice creates a new one`);
    return Buffer.from(token, 'base64').toString('utf8');
  }

  async ensureService(job: StreamJob): Promise<void> {
    const namespace = job.metadata.namespace!;
    if ((await orUndefined(this.#core.readNamespacedService({ namespace, name: job.metadata.name! }))) !== undefined) return;
    await createOnce(this.#core.createNamespacedService({ namespace, body: headlessService(job), fieldManager }));
  }

  /** The job's Topics as the API server has them now; the missing ones are created. */
  async ensureTopics(topics: readonly Topic[]): Promise<Topic[]> {
    const current: Topic[] = [];
    for (const topic of topics) {
      const key = { group, version, plural: 'topics', namespace: topic.metadata.namespace!, name: topic.metadata.name! };
      let stored = (await orUndefined(this.#custom.getNamespacedCustomObject(key))) as Topic | undefined;
      if (stored === undefined) {
        await createOnce(this.#custom.createNamespacedCustomObject({ group, version, plural: 'topics', namespace: key.namespace, body: topic, fieldManager }));
        stored = topic;
      }
      current.push(stored);
    }
    return current;
  }

  async statefulSet(job: StreamJob): Promise<V1StatefulSet | undefined> {
    return orUndefined(this.#apps.readNamespacedStatefulSet({ namespace: job.metadata.namespace!, name: job.metadata.name! }));
  }

  /** The job's pods, by ordinal. */
  async pods(job: StreamJob): Promise<V1Pod[]> {
    const list = await this.#core.listNamespacedPod({ namespace: job.metadata.namespace!, labelSelector: `${jobLabel}=${job.metadata.name!}` });
    return list.items.sort((a, b) => ordinalOf(a) - ordinalOf(b));
  }

  /** Writes the deployment's ConfigMap and StatefulSet; the pods follow when they are deleted (OnDelete). */
  async deploy(job: StreamJob, deployment: Deployment): Promise<void> {
    const namespace = job.metadata.namespace!;
    const configMap = jobConfigMap(job, deployment);
    if ((await orUndefined(this.#core.readNamespacedConfigMap({ namespace, name: configMap.metadata!.name! }))) === undefined) {
      await createOnce(this.#core.createNamespacedConfigMap({ namespace, body: configMap, fieldManager }));
    }
    const desired = statefulSet(job, deployment, this.defaults);
    const existing = await this.statefulSet(job);
    if (existing === undefined) {
      await this.#apps.createNamespacedStatefulSet({ namespace, body: desired, fieldManager });
      return;
    }
    // volumeClaimTemplates are immutable: the StatefulSet is deleted leaving its pods (the upgrade replaces them) and made again.
    if (existing.metadata?.annotations?.[volumeClaimAnnotation] !== desired.metadata?.annotations?.[volumeClaimAnnotation]) {
      await orUndefined(
        this.#apps.deleteNamespacedStatefulSet({
          namespace,
          name: job.metadata.name!,
          body: { propagationPolicy: 'Orphan', preconditions: { uid: existing.metadata!.uid! } },
        }),
      );
      await this.#apps.createNamespacedStatefulSet({ namespace, body: desired, fieldManager });
      return;
    }
    // A replace carries the resourceVersion read: a concurrent writer makes it fail with a conflict, and the key is retried.
    desired.metadata!.resourceVersion = existing.metadata!.resourceVersion;
    await this.#apps.replaceNamespacedStatefulSet({ namespace, name: job.metadata.name!, body: desired, fieldManager });
  }

  /** The spec a deployment runs, as its ConfigMap holds it; undefined when the ConfigMap is gone. */
  async deployedSpec(job: StreamJob, hash: string): Promise<StreamJobSpec | undefined> {
    const configMap = await orUndefined(this.#core.readNamespacedConfigMap({ namespace: job.metadata.namespace!, name: configMapName(job, hash) }));
    const manifest = configMap?.data?.['job.yaml'];
    return manifest === undefined ? undefined : (parse(manifest) as { spec: StreamJobSpec }).spec;
  }

  /** Sets spec.parallelism through the scale subresource, as `kubectl scale` and an HPA do. */
  async scale(job: StreamJob, parallelism: number): Promise<void> {
    const body = { spec: { replicas: parallelism } };
    await this.#custom.patchNamespacedCustomObjectScale(
      { group, version, plural: 'streamjobs', namespace: job.metadata.namespace!, name: job.metadata.name!, body, fieldManager },
      mergePatch,
    );
  }

  async deletePod(job: StreamJob, pod: V1Pod): Promise<void> {
    await orUndefined(
      this.#core.deleteNamespacedPod({ namespace: job.metadata.namespace!, name: pod.metadata!.name!, body: { preconditions: { uid: pod.metadata!.uid! } } }),
    );
  }

  /** Deletes the job's ConfigMaps of specs no longer deployed nor kept for a rollback. */
  async deleteConfigMapsExcept(job: StreamJob, keptHashes: readonly string[]): Promise<void> {
    const namespace = job.metadata.namespace!;
    const kept = new Set(keptHashes.map((hash) => configMapName(job, hash)));
    const list = await this.#core.listNamespacedConfigMap({ namespace, labelSelector: selectorOf(job) });
    for (const configMap of list.items) {
      const name = configMap.metadata!.name!;
      if (!kept.has(name)) await orUndefined(this.#core.deleteNamespacedConfigMap({ namespace, name }));
    }
  }
}

export function ordinalOf(pod: V1Pod): number {
  const index = pod.metadata?.labels?.['apps.kubernetes.io/pod-index'];
  if (index !== undefined) return Number(index);
  const suffix = /-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1];
  return suffix === undefined ? -1 : Number(suffix);
}
