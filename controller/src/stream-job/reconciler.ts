// The StreamJob reconciler: observes the job, then deploys it, keeps it running, or hands it to its parts — upgrades (upgrade.ts), savepoints (savepoints.ts) and the autoscaler loop (autoscaler-loop.ts).
import type { StreamJob } from '@sluice/crds';
import { checkJobSchema, formatProblem, repartitionRefusal, sourceSubject, statefulOperatorIds, type CompiledJob } from '@sluice/runtime';
import { findCondition, hasCondition, setCondition } from '../machinery/conditions.js';
import { done, keyOf, type ObjectKey, type Reconciler, type Result } from '../machinery/reconciler.js';
import { patchStatusIfChanged } from '../machinery/status.js';
import type { StatedCondition } from '../machinery/status-reporter.js';
import { TopicCondition } from '../topic/reconciler.js';
import { autoscalerSettings } from './autoscaler.js';
import { AutoscalerLoop, autoscaleEveryMs } from './autoscaler-loop.js';
import {
  compileSpec,
  effectiveSpec,
  livePods,
  notReadyPods,
  observeEveryMs,
  ownedChangeSafetyNetMs,
  type JobContext,
  type PartDeps,
  type StreamJobReconcilerDeps,
} from './job-context.js';
import { JobStatusWriter, StreamJobCondition, StreamJobEventReason, StreamJobReason, generationOf, statusOf, type JobStatusFields } from './job-status.js';
import { deploymentReady, observe, type Observation } from './observer.js';
import { RuntimeHealthReason, runtimeHealth } from './pod-failures.js';
import { changelogTopicResources, repartitionTopicResource, selectorOf, type Deployment } from './resources.js';
import { Savepoints } from './savepoints.js';
import { desiredReplicas, specHash } from './spec.js';
import { Upgrades } from './upgrade.js';

export { StreamJobCondition, StreamJobReason } from './job-status.js';
export type { StreamJobReconcilerDeps } from './job-context.js';

export class StreamJobReconciler implements Reconciler {
  readonly kind = 'StreamJob';
  readonly #deps: PartDeps;
  readonly #savepoints: Savepoints;
  readonly #upgrades: Upgrades;
  readonly #autoscaler: AutoscalerLoop;
  /** The uid of each job the parts hold memory for (the periodic savepoints' backoff), by key: a job gone is forgotten. */
  readonly #uids = new Map<string, string>();

  constructor(deps: StreamJobReconcilerDeps) {
    this.#deps = { ...deps, status: new JobStatusWriter({ resources: deps.jobs, events: deps.events, clock: deps.clock, log: deps.log }) };
    this.#savepoints = new Savepoints(this.#deps);
    this.#upgrades = new Upgrades(this.#deps, this.#savepoints);
    this.#autoscaler = new AutoscalerLoop(this.#deps);
  }

  async reconcile(key: ObjectKey): Promise<Result> {
    const deps = this.#deps;
    const job = await deps.jobs.get(key);
    this.remember(key, job);
    // Owned objects go with the job (ownerReferences); savepoints stay in their storage for a later job to start from.
    if (job === undefined || job.metadata.deletionTimestamp !== undefined) return done;
    const token = await deps.objects.controlToken(job);
    const observation = await observe(job, { objects: deps.objects, control: deps.control, podAddress: deps.podAddress, token });
    const context: JobContext = { job: await this.noteRuntimeHealth(job, observation), token, observation };
    if (job.status?.upgrade !== undefined) return this.#upgrades.continue(context, job.status.upgrade);
    if (job.status?.pendingSavepoint !== undefined) return this.#savepoints.continue(context, job.status.pendingSavepoint);

    const compiled = compileSpec(job);
    if (!compiled.ok) return this.refuseSpec(context, compiled.problems.map(formatProblem).join('; '));
    if (compiled.job.source.kind !== 'kafka') {
      return this.refuseSpec(
        context,
        `spec.sources[0]: a ${compiled.job.source.kind} source runs only on one machine; runtime pods read Kafka: use streamctl run for this job, or read a kafka source`,
      );
    }
    const repartition = repartitionRefusal(compiled.job);
    if (repartition !== undefined) return this.refuseSpec(context, repartition);
    const schemaProblems = await this.checkSchema(context, compiled.job);
    if (schemaProblems !== undefined) return this.refuseSpec(context, schemaProblems);
    await deps.objects.ensureService(job);
    const waiting = await this.ensureChangelogs(
      context,
      compiled.job.source.topic,
      statefulOperatorIds(compiled.job.dataflow),
      compiled.job.repartition?.stepId,
    );
    if (waiting !== undefined) return waiting;
    if (observation.deployed === undefined) return this.firstDeploy(context);
    const reason = this.#upgrades.changeOf(context);
    if (reason !== undefined) return this.#upgrades.begin(context, reason);
    return this.steady(context);
  }

  /** How many jobs the reconciler holds in-memory state for. */
  get jobsInMemory(): number {
    return this.#uids.size;
  }

  /** Keeps the uid of a job that exists; forgets what the parts hold for one that is gone (or was replaced under its name). */
  private remember(key: ObjectKey, job: StreamJob | undefined): void {
    const name = keyOf(key);
    const previous = this.#uids.get(name);
    const current = job?.metadata.deletionTimestamp === undefined ? job?.metadata.uid : undefined;
    if (previous !== undefined && previous !== current) {
      this.#savepoints.forget(previous);
    }
    if (current === undefined) this.#uids.delete(name);
    else this.#uids.set(name, current);
  }

  /**
   * Writes RuntimeHealthy from what the kubelets say of the runtime pods, whatever else the job is doing (an upgrade's
   * readiness timeout still decides on pod readiness alone); one Warning Event per new failure. Returns the job as
   * stored, so this reconcile's later writes keep the condition.
   */
  private async noteRuntimeHealth(job: StreamJob, observation: Observation): Promise<StreamJob> {
    const { clock, jobs, status } = this.#deps;
    const previous = findCondition(job.status?.conditions, StreamJobCondition.RuntimeHealthy);
    const { condition, newFailures } = runtimeHealth(livePods(observation), previous, clock.now());
    if (condition === undefined) return job;
    // Only the condition: observedGeneration says the spec was acted on, which the rest of this reconcile does.
    const observedGeneration = job.status?.observedGeneration ?? generationOf(job);
    const conditions = setCondition(job.status?.conditions, { ...condition, observedGeneration }, clock.now());
    if (!(await patchStatusIfChanged(jobs, job, { conditions }))) return job;
    for (const failure of newFailures) status.event(job, 'Warning', RuntimeHealthReason.RuntimeFailing, failure);
    if (condition.status === 'True' && previous?.status === 'False') status.event(job, 'Normal', RuntimeHealthReason.RuntimeRecovered, condition.message);
    return status.reread(job);
  }

  private async firstDeploy({ job }: JobContext): Promise<Result> {
    const deployment: Deployment = { spec: job.spec, hash: specHash(job.spec), generation: generationOf(job), replicas: desiredReplicas(job.spec) };
    if (job.spec.initialSavepoint !== undefined) deployment.restoreFrom = job.spec.initialSavepoint;
    await this.#deps.objects.deploy(job, deployment);
    const from = job.spec.initialSavepoint === undefined ? '' : ` from savepoint ${job.spec.initialSavepoint}`;
    const message = `deploying generation ${deployment.generation} on ${deployment.replicas} runtime pods${from}`;
    await this.#deps.status.write(
      job,
      {
        phase: deployment.replicas === 0 ? 'Suspended' : 'Deploying',
        deployedGeneration: deployment.generation,
        parallelism: 0,
        selector: selectorOf(job),
        // A trigger already in the first manifest is not a request: GitOps re-applies manifests to new clusters.
        savepointTriggerNonce: job.spec.savepointTrigger ?? null,
      },
      [{ type: StreamJobCondition.Ready, status: 'False', reason: StreamJobReason.Deploying, message }],
    );
    this.#deps.status.event(job, 'Normal', StreamJobReason.Deploying, message);
    return { requeueAfterMs: ownedChangeSafetyNetMs };
  }

  /** The job runs what its spec says: status follows the pods; then a savepoint asked for, the autoscaler, a periodic savepoint. */
  private async steady(context: JobContext): Promise<Result> {
    const { job, observation } = context;
    const { status: writer } = this.#deps;
    const deployed = observation.deployed!;
    const ready = deploymentReady(observation);
    const status = statusOf(job);
    const fields: JobStatusFields = {
      parallelism: livePods(observation).length,
      selector: selectorOf(job),
      lag: observation.lag ?? null,
      watermark: isoOrNull(observation.watermark),
    };
    if (!ready) {
      const everRan = status.lastStableGeneration !== undefined;
      const waiting = notReadyPods(observation);
      const message = `waiting for ${waiting.length > 0 ? waiting.join(', ') : 'the StatefulSet'} (generation ${deployed.generation})`;
      await writer.write(job, { ...fields, phase: everRan ? 'Running' : deployed.replicas === 0 ? 'Suspended' : 'Deploying' }, [
        { type: StreamJobCondition.Ready, status: 'False', reason: everRan ? StreamJobReason.PodsNotReady : StreamJobReason.Deploying, message },
      ]);
      return { requeueAfterMs: ownedChangeSafetyNetMs };
    }
    const suspended = deployed.replicas === 0;
    const message = suspended
      ? `suspended; resuming restores ${status.lastSavepoint?.location ?? 'the last committed state'}`
      : `${deployed.replicas} runtime pods run generation ${deployed.generation}`;
    const wasRunning =
      status.phase === (suspended ? 'Suspended' : 'Running') &&
      findCondition(status.conditions, StreamJobCondition.Ready)?.status === (suspended ? 'False' : 'True');
    // The spec is stable once it runs ready; a refused or rolled-back spec is not the one running.
    const effective = effectiveSpec(job);
    const runsSpec =
      deployed.hash === specHash(effective) && deployed.replicas === desiredReplicas(effective) && deployed.restartNonce === effective.restartNonce;
    const stable: JobStatusFields = runsSpec ? { lastStableSpec: effective, lastStableGeneration: generationOf(job) } : {};
    const conditions: StatedCondition[] = [
      {
        type: StreamJobCondition.Ready,
        status: suspended ? 'False' : 'True',
        reason: suspended ? StreamJobReason.Suspended : StreamJobReason.Running,
        message,
      },
    ];
    // A refused spec taken back (the running one applied again) leaves nothing refused.
    if (runsSpec && findCondition(status.conditions, StreamJobCondition.Upgrade)?.reason === StreamJobReason.InvalidSpec) {
      conditions.push({
        type: StreamJobCondition.Upgrade,
        status: 'True',
        reason: StreamJobReason.Running,
        message: `the spec applied is the one running (generation ${deployed.generation})`,
      });
    }
    const changed = await writer.write(
      job,
      { ...fields, ...stable, phase: suspended ? 'Suspended' : 'Running', deployedGeneration: deployed.generation },
      conditions,
    );
    if (!wasRunning) writer.event(job, 'Normal', suspended ? StreamJobReason.Suspended : StreamJobReason.Running, message);
    // The parts below write status too: they start from what was just written, not from the status this reconcile read.
    const current: JobContext = changed ? { ...context, job: await writer.reread(job) } : context;

    const requested = await this.#savepoints.onRequest(current, suspended);
    if (requested !== undefined) return requested;
    const autoscaler = suspended ? undefined : autoscalerSettings(job.spec);
    const rescaled = autoscaler === undefined ? undefined : await this.#autoscaler.autoscale(current, autoscaler);
    if (rescaled !== undefined) return rescaled;
    const lookAgainMs = autoscaler === undefined ? observeEveryMs : autoscaleEveryMs;
    if (suspended) return { requeueAfterMs: lookAgainMs };
    return this.#savepoints.onPeriod(current, lookAgainMs);
  }

  /** A spec that does not compile: refused with a condition; a job already deployed keeps running what it runs. */
  private async refuseSpec(context: JobContext, problems: string): Promise<Result> {
    const { job, observation } = context;
    const { status } = this.#deps;
    const generation = generationOf(job);
    if (observation.deployed === undefined) {
      throw await status.refuse(job, StreamJobReason.InvalidSpec, `generation ${generation} cannot run: ${problems}`, { phase: 'Failed' });
    }
    const message = `generation ${generation} is refused and the job keeps running generation ${observation.deployed.generation}: ${problems}`;
    const changed = await status.write(job, {}, [{ type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.InvalidSpec, message }]);
    if (changed) status.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
    return this.steady({ ...context, job: await status.reread(job) });
  }

  /**
   * A spec not yet running whose source names a subject: every field it reads checked against the subject's schema,
   * so a typo is refused here rather than dead-letter every record. The problems, or undefined. A registry that does
   * not answer does not hold the rollout back: a Warning Event says the check was skipped and why.
   */
  private async checkSchema({ job, observation }: JobContext, compiled: CompiledJob): Promise<string | undefined> {
    const subject = sourceSubject(compiled);
    if (subject === undefined || observation.deployed?.hash === specHash(effectiveSpec(job))) return undefined;
    const { schemaRegistry, defaultRegistryUrl, status } = this.#deps;
    const result = await checkJobSchema(job.spec, compiled, {
      ...(schemaRegistry === undefined ? {} : { registryAt: schemaRegistry }),
      ...(defaultRegistryUrl === undefined ? {} : { defaultRegistryUrl }),
    });
    if (result.problems.length > 0) return result.problems.map(formatProblem).join('; ');
    if (!result.checked) {
      const message = `generation ${generationOf(job)} rolls out without its fields checked against subject ${subject}: ${result.reason}`;
      status.event(job, 'Warning', StreamJobEventReason.SchemaCheckSkipped, message);
    }
    return undefined;
  }

  /**
   * Creates the changelog Topics and, for a repartitioned job, its repartition Topic (each as many partitions as the
   * source); a Result while they or the source are not there yet.
   */
  private async ensureChangelogs({ job }: JobContext, sourceTopic: string, operatorIds: string[], repartitionStep?: string): Promise<Result | undefined> {
    if (operatorIds.length === 0 && repartitionStep === undefined) return undefined;
    const { status } = this.#deps;
    const partitions = await this.#deps.sourcePartitions(sourceTopic);
    if (partitions === undefined) {
      const message = `Kafka topic ${sourceTopic} (spec.sources[0].kafka.topic) does not exist yet: create it, for example with a Topic resource; the job deploys once it does`;
      const changed = await status.write(job, { phase: job.status?.phase ?? 'Deploying' }, [
        { type: StreamJobCondition.Ready, status: 'False', reason: StreamJobReason.WaitingForSourceTopic, message },
      ]);
      if (changed) status.event(job, 'Normal', StreamJobReason.WaitingForSourceTopic, message);
      return { requeueAfterMs: 2_000 };
    }
    const wanted = changelogTopicResources(job, operatorIds, partitions);
    if (repartitionStep !== undefined) wanted.push(repartitionTopicResource(job, repartitionStep, partitions));
    const topics = await this.#deps.objects.ensureTopics(wanted);
    const pending = topics.filter((topic) => !hasCondition(topic.status?.conditions, TopicCondition.Ready, 'True'));
    if (pending.length === 0) return undefined;
    const message = `waiting for the ${repartitionStep === undefined ? 'changelog' : 'changelog and repartition'} topics ${pending.map((topic) => topic.spec.topicName ?? topic.metadata.name).join(', ')} to be Ready`;
    if (job.status?.phase === undefined || job.status.phase === 'Deploying') {
      await status.write(job, { phase: 'Deploying' }, [
        { type: StreamJobCondition.Ready, status: 'False', reason: StreamJobReason.WaitingForChangelogTopics, message },
      ]);
    }
    return { requeueAfterMs: ownedChangeSafetyNetMs };
  }
}

function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined || !Number.isFinite(epochMs) ? null : new Date(epochMs).toISOString();
}
