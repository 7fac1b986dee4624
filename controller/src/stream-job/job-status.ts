// A StreamJob's status as the controller reads and writes it: typed (lastStableSpec is a spec), its condition types and reasons as constants, and one writer for status and Events.
import type { StreamJob, StreamJobSpec, StreamJobStatus } from '@sluice/crds';
import type { ObjectKey } from '../machinery/reconciler.js';
import { StatusReporter, type StatedCondition, type StatusFields, type StatusReporterDeps } from '../machinery/status-reporter.js';
import { RuntimeHealthReason } from './pod-failures.js';

/** The condition types of a StreamJob's status. */
export const StreamJobCondition = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Upgrade: 'Upgrade',
  Savepoint: 'Savepoint',
  RuntimeHealthy: 'RuntimeHealthy',
} as const;

/** The reasons of the StreamJob's conditions and Events, for programs that read them. */
export const StreamJobReason = {
  Deploying: 'Deploying',
  Running: 'Running',
  PodsNotReady: 'PodsNotReady',
  Upgrading: 'Upgrading',
  Upgraded: 'Upgraded',
  Suspended: 'Suspended',
  InvalidSpec: 'InvalidSpec',
  WaitingForSourceTopic: 'WaitingForSourceTopic',
  WaitingForChangelogTopics: 'WaitingForChangelogTopics',
  SavepointTaken: 'SavepointTaken',
  SavepointFailed: 'SavepointFailed',
  RollingBack: 'RollingBack',
  RolledBack: 'RolledBack',
  ...RuntimeHealthReason,
} as const;

/** Reasons that only Events give. */
export const StreamJobEventReason = {
  UpgradeStarted: 'UpgradeStarted',
  UpgradeFailed: 'UpgradeFailed',
  Stopped: 'Stopped',
  Resumed: 'Resumed',
  Rescaled: 'Rescaled',
  SavepointDeleted: 'SavepointDeleted',
  Autoscaled: 'Autoscaled',
  /** The spec's fields could not be checked against its source's subject (the registry did not answer): the rollout went on. */
  SchemaCheckSkipped: 'SchemaCheckSkipped',
} as const;

/** The generated status with lastStableSpec as what the controller writes there: a whole spec. */
export type JobStatus = Omit<StreamJobStatus, 'lastStableSpec'> & { lastStableSpec?: StreamJobSpec };

/** Status fields a write sets (null removes one). */
export type JobStatusFields = StatusFields<JobStatus>;

/**
 * The job's status, typed. The CRD keeps lastStableSpec an open object (a spec's schema inside a status would double
 * the manifest); only this controller writes it, always from a spec.
 */
export function statusOf(job: StreamJob): JobStatus {
  return (job.status ?? {}) as JobStatus;
}

export function generationOf(job: StreamJob): number {
  return job.metadata.generation ?? 1;
}

export function keyOf(job: StreamJob): ObjectKey {
  return { namespace: job.metadata.namespace!, name: job.metadata.name! };
}

/** Writes a StreamJob's status (observedGeneration with it) and records its Events. */
export class JobStatusWriter extends StatusReporter<StreamJob, JobStatus> {
  constructor(private readonly reporterDeps: Omit<StatusReporterDeps<StreamJob>, 'generationOf'>) {
    super('StreamJob', { ...reporterDeps, generationOf });
  }

  /** Writes, then returns the job as stored, so the next step of the same reconcile sees its own status. */
  async writeAndRead(job: StreamJob, fields: JobStatusFields, conditions: readonly StatedCondition[]): Promise<StreamJob> {
    await this.write(job, fields, conditions);
    return this.reread(job);
  }

  /** The job as stored now (itself if it is gone). */
  async reread(job: StreamJob): Promise<StreamJob> {
    return (await this.reporterDeps.resources.get(keyOf(job))) ?? job;
  }
}
