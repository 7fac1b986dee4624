// What one reconcile of a StreamJob works from (the job as stored, its control token, what the observer saw) and what every part of the reconciler reads from it.
import type { StreamJob, StreamJobSpec } from '@sluice/crds';
import { compileJob, type SchemaCheckOptions } from '@sluice/runtime';
import type { Logger } from 'pino';
import type { Clock } from '../machinery/clock.js';
import type { ResourceClient } from '../machinery/custom-resources.js';
import type { EventRecorder } from '../machinery/events.js';
import type { ControllerMetrics } from '../machinery/metrics.js';
import type { JobStatusWriter } from './job-status.js';
import { statusOf } from './job-status.js';
import type { Observation, PodAddress } from './observer.js';
import type { OwnedObjects } from './owned-objects.js';
import type { RuntimeControl } from './runtime-control.js';
import type { JobSavepointStorage } from './savepoint-storage.js';
import { jobManifest, specHash, withRuntimeOf } from './spec.js';

/** What the StreamJob reconciler is given: every dependency passed in, so a unit test passes its own. */
export interface StreamJobReconcilerDeps {
  jobs: ResourceClient<StreamJob>;
  objects: OwnedObjects;
  control: RuntimeControl;
  podAddress: PodAddress;
  /** Partition counts of Kafka topics, for the changelogs (as many partitions as the source). */
  sourcePartitions: (topic: string) => Promise<number | undefined>;
  /** Where retention deletes savepoints. */
  savepointStorage: JobSavepointStorage;
  events: EventRecorder;
  /** Counts savepoints and upgrades (sluice_streamjob_*); absent in a unit test. */
  metrics?: Pick<ControllerMetrics, 'savepoints' | 'upgrades' | 'upgradeDuration'>;
  clock: Clock;
  log: Logger;
  /** The schema registry client a spec whose source names a subject is checked with before it rolls out; by default HTTP. */
  schemaRegistry?: SchemaCheckOptions['registryAt'];
  /** The registry of a spec that names none (the controller's --registry-url). */
  defaultRegistryUrl?: string;
}

/** What each part of the reconciler (upgrades, savepoints, the autoscaler loop) is given: the deps and the status writer. */
export interface PartDeps extends StreamJobReconcilerDeps {
  status: JobStatusWriter;
}

export interface JobContext {
  job: StreamJob;
  token: string;
  observation: Observation;
}

/** How often a running job's lag and watermark are read into status. */
export const observeEveryMs = 10_000;
/** How soon a job comes back after a step of its own that the next step follows (a state written, a rescale asked for). */
export const pollMs = 500;
/**
 * How long a job waiting on Kubernetes (its StatefulSet caught up, its pods ready, replaced or gone, its changelog
 * Topics Ready) waits before looking again on its own. A change to any of those requeues the job at once
 * (owned-watches.ts, and the Topic informer), so this only covers a watch event missed.
 */
export const ownedChangeSafetyNetMs = 30_000;

/**
 * The spec the job is to run: its own, or — while its runtime part is the one an upgrade rolled back — the last stable
 * runtime spec with the controller's fields of its own, so a rescale, suspend or restart still applies.
 */
export function effectiveSpec(job: StreamJob): StreamJobSpec {
  const { lastStableSpec, rolledBackSpecHash } = statusOf(job);
  if (lastStableSpec === undefined || rolledBackSpecHash === undefined || rolledBackSpecHash !== specHash(job.spec)) return job.spec;
  return withRuntimeOf(job.spec, lastStableSpec);
}

/** The job's spec through the runtime's compiler, as the pods would compile it. */
export function compileSpec(job: StreamJob): ReturnType<typeof compileJob> {
  return compileJob(jobManifest(job, job.spec));
}

/** The pods that keep the job from being ready, with why, for messages. */
export function notReadyPods(observation: Observation): string[] {
  return observation.pods
    .filter((pod) => !(pod.current && pod.ready && pod.runtime?.phase === 'running'))
    .map(
      (pod) =>
        `${pod.name} (${pod.terminating ? 'terminating' : !pod.current ? 'old template' : pod.runtime === undefined ? (pod.failures.waitingReason ?? 'not answering') : pod.runtime.phase})`,
    );
}

/** The pods not on their way out. */
export function livePods(observation: Observation): Observation['pods'] {
  return observation.pods.filter((pod) => !pod.terminating);
}
