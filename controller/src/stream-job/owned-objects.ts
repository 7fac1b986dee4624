// What the StreamJob reconciler does to the Kubernetes objects a job owns: the narrow interface JobObjects implements and a unit test fakes.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { StreamJob, StreamJobSpec, Topic } from '@sluice/crds';
import type { Deployment } from './resources.js';

export interface OwnedObjects {
  /** The control token of the job's Secret, created the first time. */
  controlToken(job: StreamJob): Promise<string>;
  ensureService(job: StreamJob): Promise<void>;
  /** The Topics as stored now; the missing ones are created. */
  ensureTopics(topics: readonly Topic[]): Promise<Topic[]>;
  statefulSet(job: StreamJob): Promise<V1StatefulSet | undefined>;
  /** The job's pods, by ordinal. */
  pods(job: StreamJob): Promise<V1Pod[]>;
  /** Writes the deployment's ConfigMap and StatefulSet; pods follow when they are deleted (OnDelete). */
  deploy(job: StreamJob, deployment: Deployment): Promise<void>;
  /** The spec a deployment runs, as its ConfigMap holds it; undefined when the ConfigMap is gone. */
  deployedSpec(job: StreamJob, hash: string): Promise<StreamJobSpec | undefined>;
  /** Sets spec.parallelism through the scale subresource. */
  scale(job: StreamJob, parallelism: number): Promise<void>;
  deletePod(job: StreamJob, pod: V1Pod): Promise<void>;
  /** Deletes the job's ConfigMaps of specs no longer deployed nor kept for a rollback. */
  deleteConfigMapsExcept(job: StreamJob, keptHashes: readonly string[]): Promise<void>;
}
