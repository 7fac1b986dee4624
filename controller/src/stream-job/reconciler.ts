// The StreamJob reconciler: deploys a job on runtime pods and moves it between specs, parallelisms and suspension through savepoints.
import type { Condition, PendingSavepoint, Savepoint, StreamJob, StreamJobSpec, StreamJobStatus, Topic, Upgrade } from '@sluice/crds';
import { compileJob, formatProblem, statefulOperatorIds } from '@sluice/runtime';
import type { Logger } from 'pino';
import type { Clock } from '../machinery/clock.js';
import { findCondition, setCondition, type NewCondition } from '../machinery/conditions.js';
import type { ResourceClient } from '../machinery/custom-resources.js';
import type { EventRecorder, EventType } from '../machinery/events.js';
import type { ControllerMetrics } from '../machinery/metrics.js';
import { KeyBackoff } from '../machinery/backoff.js';
import { TerminalError, done, type ObjectKey, type Reconciler, type Result } from '../machinery/reconciler.js';
import { patchStatusIfChanged } from '../machinery/status.js';
import type { OwnedObjects } from './owned-objects.js';
import { deploymentReady, observe, type Observation, type ObservedPod, type PodAddress } from './observer.js';
import { RuntimeHealthReason, runtimeHealth } from './pod-failures.js';
import { changelogTopicResources, selectorOf, type Deployment } from './resources.js';
import type { RuntimeControl } from './runtime-control.js';
import { retain } from './savepoint-retention.js';
import type { JobSavepointStorage } from './savepoint-storage.js';
import { autoscalerSettings, recommend, type AutoscalerSettings, type Sample } from './autoscaler.js';
import { desiredParallelism, desiredReplicas, heldBackAfterRollback, jobManifest, readinessTimeoutMs, savepointIntervalMs, specHash, upgradeModeOf, withRuntimeOf } from './spec.js';

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
}

/** How often a running job's lag and watermark are read into status. */
const observeEveryMs = 10_000;
/** How often a job in motion (deploying, upgrading) is looked at. */
const pollMs = 500;

type StatusFields = Omit<{ [K in keyof StreamJobStatus]: StreamJobStatus[K] | null }, 'conditions' | 'observedGeneration'>;

/** How often an autoscaled job is sampled (records consumed, lag), and how far back its samples reach. */
const autoscaleEveryMs = 2_000;
const autoscaleWindowMs = 30_000;
/** The least span of samples a recommendation is made from. */
const autoscaleMinSpanMs = 1_500;

/** After a failed savepoint the next attempt waits 5 s, doubling to 5 minutes, so the pods are not asked to stop in a tight loop. */
const savepointRetry = { baseMs: 5_000, maxMs: 5 * 60_000, jitter: 0.2 };

export class StreamJobReconciler implements Reconciler {
  readonly kind = 'StreamJob';
  /** Per job (uid): consecutive savepoint failures, and when the next attempt may start. In memory: a restarted controller tries at once. */
  readonly #savepointBackoff = new KeyBackoff(savepointRetry);
  readonly #retryAt = new Map<string, number>();
  /** Per autoscaled job (uid): its recent samples, and the recommendation that differs from its parallelism with since when. */
  readonly #samples = new Map<string, Sample[]>();
  readonly #recommended = new Map<string, { parallelism: number; since: number }>();

  constructor(private readonly deps: StreamJobReconcilerDeps) {}

  /** Milliseconds until a failed savepoint may be tried again, or 0. */
  private retryWait(job: StreamJob): number {
    return Math.max(0, (this.#retryAt.get(job.metadata.uid!) ?? 0) - this.deps.clock.now().getTime());
  }

  /** Counts a savepoint failure; the delay before the next attempt. */
  private savepointFailed(job: StreamJob): number {
    const delay = Math.round(this.#savepointBackoff.next(job.metadata.uid!));
    this.#retryAt.set(job.metadata.uid!, this.deps.clock.now().getTime() + delay);
    return delay;
  }

  private countSavepoint(job: StreamJob, trigger: string, result: 'taken' | 'failed'): void {
    this.deps.metrics?.savepoints.inc({ namespace: job.metadata.namespace, job: job.metadata.name, trigger, result });
  }

  private countUpgrade(job: StreamJob, upgrade: Upgrade, result: 'started' | 'succeeded' | 'rolled_back'): void {
    this.deps.metrics?.upgrades.inc({ namespace: job.metadata.namespace, job: job.metadata.name, reason: upgrade.reason ?? 'SpecChanged', result });
  }

  private savepointSucceeded(job: StreamJob): void {
    this.#savepointBackoff.forget(job.metadata.uid!);
    this.#retryAt.delete(job.metadata.uid!);
  }

  /**
   * The spec the job is to run: its own, or — while its runtime part is the one an upgrade rolled back — the last stable
   * runtime spec with the controller's fields of its own, so a rescale, suspend or restart still applies.
   */
  private effectiveSpec(job: StreamJob): StreamJobSpec {
    const stable = job.status?.lastStableSpec as unknown as StreamJobSpec | undefined;
    const rolledBack = job.status?.rolledBackSpecHash;
    if (stable === undefined || rolledBack === undefined || rolledBack !== specHash(job.spec)) return job.spec;
    return withRuntimeOf(job.spec, stable);
  }

  async reconcile(key: ObjectKey): Promise<Result> {
    const job = await this.deps.jobs.get(key);
    // Owned objects go with the job (ownerReferences); savepoints stay in their storage for a later job to start from.
    if (job === undefined || job.metadata.deletionTimestamp !== undefined) return done;
    const token = await this.deps.objects.controlToken(job);
    const observation = await observe(job, { objects: this.deps.objects, control: this.deps.control, podAddress: this.deps.podAddress, token });
    const context: Context = { job: await this.noteRuntimeHealth(job, observation), token, observation };
    if (job.status?.upgrade !== undefined) return this.continueUpgrade(context, job.status.upgrade);
    if (job.status?.pendingSavepoint !== undefined) return this.continueSavepoint(context, job.status.pendingSavepoint);

    const compiled = compileSpec(job);
    if (!compiled.ok) return this.refuseSpec(context, compiled.problems.map(formatProblem).join('; '));
    if (compiled.job.source.kind !== 'kafka') {
      return this.refuseSpec(context, `spec.sources[0]: a ${compiled.job.source.kind} source runs only on one machine; runtime pods read Kafka: use streamctl run for this job, or read a kafka source`);
    }
    await this.deps.objects.ensureService(job);
    const waiting = await this.ensureChangelogs(context, compiled.job.source.topic, statefulOperatorIds(compiled.job.dataflow));
    if (waiting !== undefined) return waiting;
    if (observation.deployed === undefined) return this.firstDeploy(context);
    const reason = this.changeOf(context);
    if (reason !== undefined) return this.beginUpgrade(context, reason);
    return this.steady(context);
  }

  /**
   * Writes RuntimeHealthy from what the kubelets say of the runtime pods, whatever else the job is doing (an upgrade's
   * readiness timeout still decides on pod readiness alone); one Warning Event per new failure. Returns the job as
   * stored, so this reconcile's later writes keep the condition.
   */
  private async noteRuntimeHealth(job: StreamJob, observation: Observation): Promise<StreamJob> {
    const pods = observation.pods.filter((pod) => !pod.terminating);
    const previous = findCondition(job.status?.conditions, 'RuntimeHealthy');
    const { condition, newFailures } = runtimeHealth(pods, previous, this.deps.clock.now());
    if (condition === undefined) return job;
    // Only the condition: observedGeneration says the spec was acted on, which the rest of this reconcile does.
    const observedGeneration = job.status?.observedGeneration ?? generationOf(job);
    const conditions = setCondition(job.status?.conditions, { ...condition, observedGeneration }, this.deps.clock.now());
    if (!(await patchStatusIfChanged(this.deps.jobs, job, { conditions }))) return job;
    for (const failure of newFailures) this.event(job, 'Warning', RuntimeHealthReason.RuntimeFailing, failure);
    if (condition.status === 'True' && previous?.status === 'False') this.event(job, 'Normal', RuntimeHealthReason.RuntimeRecovered, condition.message);
    return (await this.deps.jobs.get(keyOf(job))) ?? job;
  }

  // ——— first deployment and the steady state ———

  private async firstDeploy({ job }: Context): Promise<Result> {
    const deployment: Deployment = { spec: job.spec, hash: specHash(job.spec), generation: generationOf(job), replicas: desiredReplicas(job.spec) };
    if (job.spec.initialSavepoint !== undefined) deployment.restoreFrom = job.spec.initialSavepoint;
    await this.deps.objects.deploy(job, deployment);
    const from = job.spec.initialSavepoint === undefined ? '' : ` from savepoint ${job.spec.initialSavepoint}`;
    const message = `deploying generation ${deployment.generation} on ${deployment.replicas} runtime pods${from}`;
    await this.write(
      job,
      {
        phase: deployment.replicas === 0 ? 'Suspended' : 'Deploying',
        deployedGeneration: deployment.generation,
        parallelism: 0,
        selector: selectorOf(job),
        // A trigger already in the first manifest is not a request: GitOps re-applies manifests to new clusters.
        savepointTriggerNonce: job.spec.savepointTrigger ?? null,
      },
      [{ type: 'Ready', status: 'False', reason: StreamJobReason.Deploying, message }],
    );
    this.event(job, 'Normal', StreamJobReason.Deploying, message);
    return { requeueAfterMs: pollMs };
  }

  private async steady(context: Context): Promise<Result> {
    const { job, observation } = context;
    const deployed = observation.deployed!;
    const ready = deploymentReady(observation);
    const status = job.status ?? {};
    const live = observation.pods.filter((pod) => !pod.terminating);
    const fields: StatusFields = { parallelism: live.length, selector: selectorOf(job), lag: observation.lag ?? null, watermark: isoOrNull(observation.watermark) };
    if (!ready) {
      const everRan = status.lastStableGeneration !== undefined;
      const waiting = notReadyPods(observation);
      const message = `waiting for ${waiting.length > 0 ? waiting.join(', ') : 'the StatefulSet'} (generation ${deployed.generation})`;
      await this.write(job, { ...fields, phase: everRan ? 'Running' : deployed.replicas === 0 ? 'Suspended' : 'Deploying' }, [
        { type: 'Ready', status: 'False', reason: everRan ? StreamJobReason.PodsNotReady : StreamJobReason.Deploying, message },
      ]);
      return { requeueAfterMs: pollMs * 2 };
    }
    const suspended = deployed.replicas === 0;
    const message = suspended ? `suspended; resuming restores ${status.lastSavepoint?.location ?? 'the last committed state'}` : `${deployed.replicas} runtime pods run generation ${deployed.generation}`;
    const wasRunning = status.phase === (suspended ? 'Suspended' : 'Running') && findCondition(status.conditions, 'Ready')?.status === (suspended ? 'False' : 'True');
    // The spec is stable once it runs ready; a refused or rolled-back spec is not the one running.
    const effective = this.effectiveSpec(job);
    const runsSpec = deployed.hash === specHash(effective) && deployed.replicas === desiredReplicas(effective) && deployed.restartNonce === effective.restartNonce;
    const stable: StatusFields = runsSpec ? { lastStableSpec: effective as unknown as Record<string, unknown>, lastStableGeneration: generationOf(job) } : {};
    const conditions: NewCondition[] = [{ type: 'Ready', status: suspended ? 'False' : 'True', reason: suspended ? StreamJobReason.Suspended : StreamJobReason.Running, message }];
    // A refused spec taken back (the running one applied again) leaves nothing refused.
    if (runsSpec && findCondition(status.conditions, 'Upgrade')?.reason === StreamJobReason.InvalidSpec) {
      conditions.push({ type: 'Upgrade', status: 'True', reason: StreamJobReason.Running, message: `the spec applied is the one running (generation ${deployed.generation})` });
    }
    await this.write(job, { ...fields, ...stable, phase: suspended ? 'Suspended' : 'Running', deployedGeneration: deployed.generation }, conditions);
    if (!wasRunning) this.event(job, 'Normal', suspended ? StreamJobReason.Suspended : StreamJobReason.Running, message);

    const trigger = job.spec.savepointTrigger;
    if (trigger !== undefined && trigger !== status.savepointTriggerNonce) {
      if (suspended) {
        const refusal = `savepointTrigger ${trigger}: the job is suspended and processes nothing; its last savepoint is ${status.lastSavepoint?.location ?? 'none'}`;
        await this.write(job, { savepointTriggerNonce: trigger }, [{ type: 'Savepoint', status: 'False', reason: StreamJobReason.SavepointFailed, message: refusal }]);
        return done;
      }
      return this.beginSavepoint(context, { trigger: 'manual', triggerNonce: trigger });
    }
    const autoscaler = suspended ? undefined : autoscalerSettings(job.spec);
    if (autoscaler !== undefined && (await this.autoscale(context, autoscaler))) return { requeueAfterMs: pollMs };
    const lookAgainMs = autoscaler === undefined ? observeEveryMs : autoscaleEveryMs;
    const interval = savepointIntervalMs(job.spec);
    if (interval === undefined || suspended) return { requeueAfterMs: lookAgainMs };
    const since = this.deps.clock.now().getTime() - new Date(status.lastSavepoint?.timestamp ?? findCondition(status.conditions, 'Ready')?.lastTransitionTime ?? 0).getTime();
    if (since >= interval && this.retryWait(job) === 0) return this.beginSavepoint(context, { trigger: 'periodic' });
    if (since >= interval) return { requeueAfterMs: this.retryWait(job) };
    return { requeueAfterMs: Math.min(lookAgainMs, interval - since) };
  }

  /**
   * Samples the running job and writes the autoscaler's recommendation to status; in mode apply, once a different
   * parallelism has been recommended for stabilizationWindow (and, going down, scaleDownDelay has passed since the last
   * rescale), sets spec.parallelism through the scale subresource — the rescale then takes the savepoint path. True
   * when it rescaled.
   */
  private async autoscale({ job, observation }: Context, settings: AutoscalerSettings): Promise<boolean> {
    const uid = job.metadata.uid!;
    const pods = observation.pods.filter((pod) => !pod.terminating);
    const statuses = pods.map((pod) => pod.runtime);
    if (statuses.some((runtime) => runtime === undefined) || observation.lag === undefined) return false;
    const now = this.deps.clock.now().getTime();
    const sample: Sample = { at: now, consumed: statuses.reduce((sum, runtime) => sum + runtime!.recordsIn, 0), lag: observation.lag, pods: pods.length };
    const previous = this.#samples.get(uid) ?? [];
    // A restarted or rescaled pod counts from zero again: measure anew.
    const comparable = previous.length > 0 && previous.at(-1)!.consumed <= sample.consumed && previous.at(-1)!.pods === sample.pods;
    const samples = [...(comparable ? previous : []), sample].filter((kept) => now - kept.at <= autoscaleWindowMs);
    this.#samples.set(uid, samples);
    if (samples.length < 2 || now - samples[0]!.at < autoscaleMinSpanMs) return false;

    const status = job.status?.autoscaler ?? {};
    const current = desiredParallelism(job.spec);
    const partitions = statuses.reduce((sum, runtime) => sum + runtime!.partitions.length, 0);
    const recommendation = recommend(settings, samples, current, partitions, status.processingRate);
    const evaluated = {
      ...status,
      recommendedParallelism: recommendation.parallelism,
      ...(recommendation.processingRate === undefined ? {} : { processingRate: Math.round(recommendation.processingRate) }),
      lastEvaluationTime: new Date(now).toISOString(),
      reason: recommendation.reason,
    };
    if (settings.mode !== 'apply' || recommendation.parallelism === current) {
      this.#recommended.delete(uid);
      await this.write(job, { autoscaler: evaluated }, []);
      return false;
    }
    const held = this.#recommended.get(uid);
    if (held?.parallelism !== recommendation.parallelism) this.#recommended.set(uid, { parallelism: recommendation.parallelism, since: now });
    const lastScale = status.lastScaleTime === undefined ? undefined : Date.parse(status.lastScaleTime);
    const stable = now - this.#recommended.get(uid)!.since >= settings.stabilizationMs;
    const downTooSoon = recommendation.parallelism < current && lastScale !== undefined && now - lastScale < settings.scaleDownDelayMs;
    if (!stable || downTooSoon) {
      await this.write(job, { autoscaler: evaluated }, []);
      return false;
    }
    await this.deps.objects.scale(job, recommendation.parallelism);
    this.#samples.delete(uid);
    this.#recommended.delete(uid);
    await this.write(job, { autoscaler: { ...evaluated, lastScaleTime: new Date(now).toISOString() } }, []);
    this.event(job, 'Normal', 'Autoscaled', `parallelism ${current} → ${recommendation.parallelism}: ${recommendation.reason}`);
    return true;
  }


  /** A spec that does not compile: refused with a condition; a job already deployed keeps running what it runs. */
  private async refuseSpec(context: Context, problems: string): Promise<Result> {
    const { job, observation } = context;
    const generation = generationOf(job);
    if (observation.deployed === undefined) {
      const message = `generation ${generation} cannot run: ${problems}`;
      const changed = await this.write(job, { phase: 'Failed' }, [{ type: 'Ready', status: 'False', reason: StreamJobReason.InvalidSpec, message }]);
      if (changed) this.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
      throw new TerminalError(StreamJobReason.InvalidSpec, message);
    }
    const message = `generation ${generation} is refused and the job keeps running generation ${observation.deployed.generation}: ${problems}`;
    const changed = await this.write(job, {}, [{ type: 'Upgrade', status: 'False', reason: StreamJobReason.InvalidSpec, message }]);
    if (changed) this.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
    return this.steady({ ...context, job: (await this.deps.jobs.get(keyOf(job))) ?? job });
  }

  /** Creates the changelog Topics (as many partitions as the source); a Result while they or the source are not there yet. */
  private async ensureChangelogs({ job }: Context, sourceTopic: string, operatorIds: string[]): Promise<Result | undefined> {
    if (operatorIds.length === 0) return undefined;
    const partitions = await this.deps.sourcePartitions(sourceTopic);
    if (partitions === undefined) {
      const message = `Kafka topic ${sourceTopic} (spec.sources[0].kafka.topic) does not exist yet: create it, for example with a Topic resource; the job deploys once it does`;
      const changed = await this.write(job, { phase: job.status?.phase ?? 'Deploying' }, [{ type: 'Ready', status: 'False', reason: StreamJobReason.WaitingForSourceTopic, message }]);
      if (changed) this.event(job, 'Normal', StreamJobReason.WaitingForSourceTopic, message);
      return { requeueAfterMs: 2_000 };
    }
    const topics = await this.deps.objects.ensureTopics(changelogTopicResources(job, operatorIds, partitions));
    const pending = topics.filter((topic: Topic) => !(topic.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True'));
    if (pending.length === 0) return undefined;
    const message = `waiting for the changelog topics ${pending.map((topic) => topic.spec.topicName ?? topic.metadata.name).join(', ')} to be Ready`;
    if (job.status?.phase === undefined || job.status.phase === 'Deploying') {
      await this.write(job, { phase: 'Deploying' }, [{ type: 'Ready', status: 'False', reason: StreamJobReason.WaitingForChangelogTopics, message }]);
    }
    return { requeueAfterMs: pollMs };
  }

  // ——— upgrades: a spec change, a rescale, suspend, resume, restart ———

  /** Why the deployed job must change, or undefined when it runs what the spec says. */
  private changeOf({ job, observation }: Context): Upgrade['reason'] | undefined {
    const deployed = observation.deployed!;
    // A rolled-back generation is not tried again: the stable spec runs until the spec changes.
    if (job.status?.rolledBackGeneration === generationOf(job)) return undefined;
    // A runtime spec that was rolled back is not tried again until it changes (effectiveSpec holds it back).
    const spec = this.effectiveSpec(job);
    const replicas = desiredReplicas(spec);
    const hashChanged = deployed.hash !== specHash(spec);
    const nonceChanged = deployed.restartNonce !== spec.restartNonce;
    if (!hashChanged && !nonceChanged && deployed.replicas === replicas) return undefined;
    if (replicas === 0 && deployed.replicas > 0) return 'Suspend';
    if (deployed.replicas === 0 && replicas > 0) return 'Resume';
    if (hashChanged) return 'SpecChanged';
    if (nonceChanged) return 'Restart';
    return 'Rescale';
  }

  private async beginUpgrade(context: Context, reason: NonNullable<Upgrade['reason']>): Promise<Result> {
    const { job, observation } = context;
    const deployed = observation.deployed!;
    const status = job.status ?? {};
    const now = this.deps.clock.now();
    const base: Upgrade = {
      state: 'Savepointing',
      // A suspend always takes a savepoint: resuming starts from it, whatever the upgrade mode.
      mode: reason === 'Suspend' ? 'savepoint' : upgradeModeOf(job.spec),
      reason,
      fromGeneration: deployed.generation,
      targetGeneration: generationOf(job),
      targetParallelism: desiredReplicas(job.spec),
      savepointId: savepointId(savepointTriggerOf(reason), generationOf(job), now),
      startedAt: now.toISOString(),
    };
    let upgrade: Upgrade;
    let message: string;
    if (deployed.replicas === 0) {
      // Nothing runs: nothing to stop; the pods start from the savepoint the job was suspended with (a job created
      // suspended has none, and starts from its last commit).
      const suspendedWith = status.lastSavepoint?.trigger === 'suspend' ? status.lastSavepoint.location : undefined;
      upgrade = { ...base, state: 'Deploying', mode: 'savepoint', ...(suspendedWith === undefined ? {} : { savepoint: suspendedWith }) };
      message = `${reason === 'Resume' ? 'resuming' : 'redeploying'} generation ${base.targetGeneration} on ${base.targetParallelism} pods from ${suspendedWith ?? 'the last committed state'}`;
    } else if (status.lastStableGeneration === undefined || status.phase === 'Failed') {
      // The deployed spec never ran, so there is no running job to take a savepoint of: replace it, from where it was to start.
      upgrade = { ...base, state: 'Deploying', mode: 'savepoint', ...(deployed.restoreFrom === undefined ? {} : { savepoint: deployed.restoreFrom }) };
      message = `generation ${deployed.generation} never ran; replacing it with generation ${base.targetGeneration}`;
    } else if (this.retryWait(job) > 0 && base.mode === 'savepoint') {
      return { requeueAfterMs: this.retryWait(job) };
    } else {
      const notRunning = observation.pods.filter((pod) => !pod.terminating && pod.runtime?.phase !== 'running');
      // Only a savepoint needs every pod running; the other modes stop what answers and replace the rest.
      if (base.mode === 'savepoint' && (notRunning.length > 0 || observation.pods.length === 0)) {
        const waitingFor = `waiting for ${notRunning.map((pod) => pod.name).join(', ') || 'the pods'} to run before stopping the job with a savepoint for generation ${base.targetGeneration} (${reason}); a job that cannot run upgrades from its last commit with spec.upgradeMode: last-state`;
        await this.write(job, {}, [{ type: 'Progressing', status: 'True', reason: StreamJobReason.Upgrading, message: waitingFor }]);
        return { requeueAfterMs: pollMs * 2 };
      }
      upgrade = base;
      message =
        base.mode === 'savepoint'
          ? `${reason}: stopping ${observation.pods.length} pods of generation ${deployed.generation} with savepoint ${base.savepointId}, then starting generation ${base.targetGeneration} on ${base.targetParallelism} pods from it`
          : `${reason}: stopping ${observation.pods.length} pods of generation ${deployed.generation}, then starting generation ${base.targetGeneration} ${base.mode === 'stateless' ? 'with empty state' : 'from their last committed state'}`;
    }
    // A new runtime spec may be tried; one held back since its rollback stays held back (a rescale of the stable one).
    const heldBack = status.rolledBackSpecHash !== undefined && status.rolledBackSpecHash === specHash(job.spec);
    const updated = await this.writeAndRead(job, { phase: 'Upgrading', upgrade, ...(heldBack ? {} : { rolledBackSpecHash: null }) }, [
      { type: 'Ready', status: 'False', reason: StreamJobReason.Upgrading, message },
      { type: 'Progressing', status: 'True', reason: StreamJobReason.Upgrading, message },
    ]);
    this.event(job, 'Normal', 'UpgradeStarted', message);
    this.countUpgrade(job, upgrade, 'started');
    return this.continueUpgrade({ ...context, job: updated }, upgrade);
  }

  private continueUpgrade(context: Context, upgrade: Upgrade): Promise<Result> {
    switch (upgrade.state) {
      case 'Savepointing':
        return this.stopPods(context, upgrade);
      case 'Deploying':
        return this.deployTarget(context, upgrade);
      case 'Verifying':
        return this.verify(context, upgrade);
      case 'RollingBack':
        return this.rollBack(context, upgrade);
    }
  }

  /** Stops every pod (with a savepoint in mode savepoint); the savepoint's location goes into status before anything else happens. */
  private async stopPods(context: Context, upgrade: Upgrade): Promise<Result> {
    const { job, observation, token } = context;
    const pods = observation.pods.filter((pod) => !pod.terminating);
    const withSavepoint = upgrade.mode === 'savepoint';
    const id = upgrade.savepointId!;
    const answers = await Promise.allSettled(pods.map((pod) => this.stopPod(pod, token, withSavepoint, id)));
    const failures = answers.flatMap((answer, index) => (answer.status === 'rejected' ? [`${pods[index]!.name}: ${(answer.reason as Error).message}`] : []));
    if (withSavepoint && (failures.length > 0 || pods.length === 0)) {
      return this.savepointFailedInUpgrade(context, upgrade, failures.length > 0 ? failures.join('; ') : 'no runtime pod to take it');
    }
    const location = answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : undefined)).find((value) => value !== undefined);
    const next: Upgrade = { ...upgrade, state: 'Deploying' };
    const fields: StatusFields = { upgrade: next };
    const conditions: NewCondition[] = [];
    if (withSavepoint && location !== undefined) {
      next.savepoint = location;
      const savepoint: Savepoint = {
        location,
        timestamp: this.deps.clock.now().toISOString(),
        trigger: savepointTriggerOf(upgrade.reason),
        parallelism: pods.length,
        generation: upgrade.fromGeneration ?? generationOf(job),
      };
      this.savepointSucceeded(job);
      this.countSavepoint(job, savepoint.trigger, 'taken');
      Object.assign(fields, await this.recordSavepoint(context, savepoint, [location]));
      conditions.push({ type: 'Savepoint', status: 'True', reason: StreamJobReason.SavepointTaken, message: `savepoint ${location} taken for ${upgrade.reason ?? 'the upgrade'}` });
      this.event(job, 'Normal', StreamJobReason.SavepointTaken, `stopped ${pods.length} pods with savepoint ${location}`);
    } else if (upgrade.mode === 'stateless') {
      this.event(job, 'Normal', 'Stopped', `stopped ${pods.length} pods; generation ${upgrade.targetGeneration} starts with empty state`);
    }
    const updated = await this.writeAndRead(job, fields, conditions);
    return this.deployTarget({ ...context, job: updated }, next);
  }

  /** One pod's part: its answer's savepoint location; a pod that already stopped with this savepoint answers from its status. */
  private async stopPod(pod: ObservedPod, token: string, withSavepoint: boolean, id: string): Promise<string | undefined> {
    if (pod.runtime?.phase === 'finished' && (!withSavepoint || pod.runtime.lastSavepoint?.includes(id) === true)) return pod.runtime.lastSavepoint ?? undefined;
    if (pod.address === undefined) throw new Error('the pod has no address yet');
    const answer = await this.deps.control.stop(pod.address, token, withSavepoint ? { savepoint: true, id } : { savepoint: false });
    return answer.savepoint?.location;
  }

  /**
   * Strict: no savepoint, no upgrade. Pods that did stop are deleted, so the StatefulSet restarts them on the old spec
   * from their last commit; the failure is a condition and an Event; the key is retried with backoff.
   */
  private async savepointFailedInUpgrade(context: Context, upgrade: Upgrade, why: string): Promise<Result> {
    const { job, token } = context;
    for (const pod of context.observation.pods) {
      const now = pod.address === undefined ? undefined : await this.deps.control.status(pod.address, token).catch(() => undefined);
      if (now?.phase === 'finished' || now?.phase === 'stopping') await this.deps.objects.deletePod(job, pod.pod);
    }
    const retryInMs = this.savepointFailed(job);
    this.countSavepoint(job, savepointTriggerOf(upgrade.reason), 'failed');
    const message = `the savepoint for ${upgrade.reason ?? 'the upgrade'} to generation ${upgrade.targetGeneration} failed, so the job keeps running generation ${upgrade.fromGeneration ?? '?'}: ${why}. Sluice tries again in ${Math.round(retryInMs / 1000)}s; fix the cause (is the savepoint location reachable?) or set spec.upgradeMode to last-state`;
    await this.write(job, { upgrade: null, phase: 'Running' }, [
      { type: 'Savepoint', status: 'False', reason: StreamJobReason.SavepointFailed, message },
      { type: 'Upgrade', status: 'False', reason: StreamJobReason.SavepointFailed, message },
      { type: 'Progressing', status: 'False', reason: StreamJobReason.SavepointFailed, message },
    ]);
    this.event(job, 'Warning', StreamJobReason.SavepointFailed, message);
    return { requeueAfterMs: retryInMs };
  }

  private targetDeployment(job: StreamJob, upgrade: Upgrade): Deployment {
    const spec = this.effectiveSpec(job);
    const deployment: Deployment = { spec, hash: specHash(spec), generation: generationOf(job), replicas: desiredReplicas(spec) };
    if (upgrade.savepoint !== undefined) deployment.restoreFrom = upgrade.savepoint;
    if (upgrade.mode === 'stateless' && upgrade.reason !== 'Resume' && upgrade.savepointId !== undefined) deployment.discardState = upgrade.savepointId;
    return deployment;
  }

  private async deployTarget(context: Context, upgrade: Upgrade): Promise<Result> {
    const { job } = context;
    const deployment = this.targetDeployment(job, upgrade);
    // The spec may have changed since the upgrade began: one that does not compile is never deployed. The stopped job
    // waits for a spec that does, or is rolled back once readinessTimeout has passed.
    const compiled = compileSpec(job);
    if (!compiled.ok) {
      const message = `generation ${generationOf(job)} is refused while the job is stopped for an upgrade: ${compiled.problems.map(formatProblem).join('; ')}; apply a spec that compiles, or the job rolls back to generation ${job.status?.lastStableGeneration ?? '?'} after readinessTimeout`;
      if (await this.write(job, {}, [{ type: 'Upgrade', status: 'False', reason: StreamJobReason.InvalidSpec, message }])) this.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
      return this.awaitReadiness(context, upgrade, deployment);
    }
    if (!(await this.rollOut(context, deployment))) return { requeueAfterMs: pollMs };
    const next: Upgrade = { ...upgrade, state: 'Verifying', targetGeneration: deployment.generation };
    await this.write(context.job, { upgrade: next, deployedGeneration: deployment.generation }, [
      { type: 'Progressing', status: 'True', reason: StreamJobReason.Upgrading, message: `starting generation ${deployment.generation} on ${deployment.replicas} pods` },
    ]);
    return { requeueAfterMs: pollMs };
  }

  /**
   * Makes the StatefulSet describe the deployment and replaces every pod of an older template; true once only pods of
   * this deployment are left (they may still be starting).
   */
  private async rollOut({ job, observation }: Context, deployment: Deployment): Promise<boolean> {
    const deployed = observation.deployed;
    const matches =
      deployed !== undefined &&
      deployed.hash === deployment.hash &&
      deployed.generation === deployment.generation &&
      deployed.replicas === deployment.replicas &&
      deployed.restoreFrom === deployment.restoreFrom &&
      deployed.restartNonce === deployment.spec.restartNonce;
    if (!matches) {
      await this.deps.objects.deploy(job, deployment);
      return false;
    }
    if (!deployed.settled) return false;
    const stale = observation.pods.filter((pod) => !pod.current);
    for (const pod of stale) if (!pod.terminating) await this.deps.objects.deletePod(job, pod.pod);
    return stale.length === 0;
  }

  private async verify(context: Context, upgrade: Upgrade): Promise<Result> {
    const { job, observation } = context;
    const target = this.targetDeployment(job, upgrade);
    const deployed = observation.deployed;
    const changedAgain = deployed === undefined || deployed.hash !== target.hash || deployed.replicas !== target.replicas || deployed.restartNonce !== target.spec.restartNonce;
    const compiled = changedAgain ? compileSpec(job) : undefined;
    if (compiled?.ok === false) {
      // A newer spec that does not compile is not deployed; the one starting goes on being verified (or rolled back).
      const message = `generation ${generationOf(job)} is refused while generation ${upgrade.targetGeneration} starts: ${compiled.problems.map(formatProblem).join('; ')}`;
      if (await this.write(job, {}, [{ type: 'Upgrade', status: 'False', reason: StreamJobReason.InvalidSpec, message }])) this.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
      const starting = deployed === undefined ? undefined : await this.deps.objects.deployedSpec(job, deployed.hash);
      if (starting !== undefined && deploymentReady(observation)) return this.finishUpgrade(context, upgrade, starting);
      return this.awaitReadiness(context, upgrade, { ...target, hash: deployed?.hash ?? target.hash });
    }
    // The spec changed again while the new one was starting: deploy the newer one from the same savepoint.
    if (changedAgain) {
      const next: Upgrade = { ...upgrade, state: 'Deploying', targetGeneration: generationOf(job) };
      await this.write(job, { upgrade: next }, []);
      return this.deployTarget(context, next);
    }
    if (deploymentReady(observation)) return this.finishUpgrade(context, upgrade, target.spec);
    return this.awaitReadiness(context, upgrade, target);
  }

  /** Not ready yet: roll back once readinessTimeout has passed since the upgrade began, else look again soon. */
  private async awaitReadiness(context: Context, upgrade: Upgrade, target: Deployment): Promise<Result> {
    const { job, observation } = context;
    const elapsed = this.deps.clock.now().getTime() - new Date(upgrade.startedAt ?? 0).getTime();
    const lastStable = job.status?.lastStableSpec as unknown as StreamJobSpec | undefined;
    if (elapsed > readinessTimeoutMs(job.spec) && upgrade.reason !== 'Suspend' && lastStable !== undefined) {
      const message = `generation ${upgrade.targetGeneration} was not ready within ${job.spec.readinessTimeout ?? '5m'} (${notReadyPods(observation).join(', ') || 'pods missing'}): rolling back to generation ${job.status?.lastStableGeneration ?? '?'}${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`}`;
      const next: Upgrade = { ...upgrade, state: 'RollingBack' };
      await this.write(job, { upgrade: next, phase: 'RollingBack', rolledBackGeneration: upgrade.targetGeneration, rolledBackSpecHash: heldBackAfterRollback(job.spec, target.hash, job.status?.rolledBackSpecHash) ?? null }, [
        { type: 'Upgrade', status: 'False', reason: StreamJobReason.RollingBack, message },
        { type: 'Progressing', status: 'True', reason: StreamJobReason.RollingBack, message },
      ]);
      this.event(job, 'Warning', 'UpgradeFailed', message);
      return { requeueAfterMs: pollMs };
    }
    await this.write(job, {}, [{ type: 'Progressing', status: 'True', reason: StreamJobReason.Upgrading, message: `starting generation ${target.generation}: waiting for ${notReadyPods(observation).join(', ') || 'the pods'}` }]);
    return { requeueAfterMs: pollMs };
  }

  /** The pods of `spec` are all ready: the upgrade is over, and `spec` is the new stable one. */
  private async finishUpgrade({ job, observation }: Context, upgrade: Upgrade, spec: StreamJobSpec): Promise<Result> {
    const suspended = desiredReplicas(spec) === 0;
    const started = new Date(upgrade.startedAt ?? 0).getTime();
    const seconds = ((this.deps.clock.now().getTime() - started) / 1000).toFixed(1);
    const message = suspended
      ? `suspended in ${seconds}s${upgrade.savepoint === undefined ? '' : `; savepoint ${upgrade.savepoint}`}`
      : `generation ${upgrade.targetGeneration} runs on ${desiredReplicas(spec)} pods (${upgrade.reason ?? 'upgrade'} in ${seconds}s${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`})`;
    await this.write(
      job,
      {
        upgrade: null,
        phase: suspended ? 'Suspended' : 'Running',
        parallelism: observation.pods.filter((pod) => !pod.terminating).length,
        deployedGeneration: upgrade.targetGeneration,
        lastStableSpec: spec as unknown as Record<string, unknown>,
        lastStableGeneration: upgrade.targetGeneration,
      },
      [
        { type: 'Ready', status: suspended ? 'False' : 'True', reason: suspended ? StreamJobReason.Suspended : StreamJobReason.Running, message },
        { type: 'Upgrade', status: 'True', reason: StreamJobReason.Upgraded, message },
        { type: 'Progressing', status: 'False', reason: StreamJobReason.Upgraded, message },
      ],
    );
    const reason = upgrade.reason === 'Suspend' ? 'Suspended' : upgrade.reason === 'Resume' ? 'Resumed' : upgrade.reason === 'Rescale' ? 'Rescaled' : StreamJobReason.Upgraded;
    this.event(job, 'Normal', reason, message);
    this.countUpgrade(job, upgrade, 'succeeded');
    this.deps.metrics?.upgradeDuration.observe({ reason: upgrade.reason ?? 'SpecChanged' }, (this.deps.clock.now().getTime() - started) / 1000);
    await this.deps.objects.deleteConfigMapsExcept(job, [specHash(spec)]);
    return { requeueAfterMs: observeEveryMs };
  }

  /** Redeploys lastStableSpec from the upgrade's savepoint, then the job runs there until the spec changes again. */
  private async rollBack(context: Context, upgrade: Upgrade): Promise<Result> {
    const { job, observation } = context;
    const spec = job.status?.lastStableSpec as unknown as StreamJobSpec;
    const generation = job.status?.lastStableGeneration ?? generationOf(job);
    const deployment: Deployment = { spec, hash: specHash(spec), generation, replicas: desiredReplicas(spec) };
    if (upgrade.savepoint !== undefined) deployment.restoreFrom = upgrade.savepoint;
    if (!(await this.rollOut(context, deployment)) || !deploymentReady(observation)) return { requeueAfterMs: pollMs };
    const message = `generation ${upgrade.targetGeneration} was not ready in time and was rolled back: generation ${generation} runs again${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`}. Fix the spec and apply it again`;
    await this.write(job, { upgrade: null, phase: 'Running', deployedGeneration: generation, parallelism: deployment.replicas }, [
      { type: 'Ready', status: 'True', reason: StreamJobReason.Running, message: `${deployment.replicas} runtime pods run generation ${generation}` },
      { type: 'Upgrade', status: 'False', reason: StreamJobReason.RolledBack, message },
      { type: 'Progressing', status: 'False', reason: StreamJobReason.RolledBack, message },
    ]);
    this.event(job, 'Warning', StreamJobReason.RolledBack, message);
    this.countUpgrade(job, upgrade, 'rolled_back');
    return { requeueAfterMs: observeEveryMs };
  }

  // ——— savepoints on request and on a period ———

  private async beginSavepoint(context: Context, request: Omit<PendingSavepoint, 'requestedAt' | 'id'>): Promise<Result> {
    const now = this.deps.clock.now();
    const pending: PendingSavepoint = { ...request, id: savepointId(request.trigger, generationOf(context.job), now), requestedAt: now.toISOString() };
    const updated = await this.writeAndRead(context.job, { pendingSavepoint: pending }, []);
    return this.continueSavepoint({ ...context, job: updated }, pending);
  }

  private async continueSavepoint(context: Context, pending: PendingSavepoint): Promise<Result> {
    const { job, observation, token } = context;
    const pods = observation.pods.filter((pod) => !pod.terminating);
    const id = pending.id ?? savepointId(pending.trigger, generationOf(job), new Date(pending.requestedAt));
    const answers = await Promise.allSettled(
      pods.map((pod) => {
        if (pod.address === undefined) return Promise.reject(new Error('the pod has no address yet'));
        return this.deps.control.savepoint(pod.address, token, id);
      }),
    );
    const failures = answers.flatMap((answer, index) => (answer.status === 'rejected' ? [`${pods[index]!.name}: ${(answer.reason as Error).message}`] : []));
    const answered = pending.triggerNonce === undefined ? {} : { savepointTriggerNonce: pending.triggerNonce };
    if (failures.length > 0 || pods.length === 0) {
      this.countSavepoint(job, pending.trigger, 'failed');
      const retryInMs = pending.trigger === 'manual' ? observeEveryMs : this.savepointFailed(job);
      const retry = pending.trigger === 'manual' ? 'change spec.savepointTrigger again (streamctl savepoint) to retry' : `Sluice tries again in ${Math.round(retryInMs / 1000)}s`;
      const message = `the ${pending.trigger} savepoint ${id} failed: ${failures.join('; ') || 'no runtime pod runs'}. The job goes on running; ${retry}`;
      await this.write(job, { pendingSavepoint: null, ...answered }, [{ type: 'Savepoint', status: 'False', reason: StreamJobReason.SavepointFailed, message }]);
      this.event(job, 'Warning', StreamJobReason.SavepointFailed, message);
      return { requeueAfterMs: retryInMs };
    }
    this.savepointSucceeded(job);
    this.countSavepoint(job, pending.trigger, 'taken');
    const location = answers.map((answer) => (answer.status === 'fulfilled' ? answer.value.location : undefined)).find((value) => value !== undefined)!;
    const savepoint: Savepoint = {
      location,
      timestamp: this.deps.clock.now().toISOString(),
      trigger: pending.trigger,
      ...(pending.triggerNonce === undefined ? {} : { triggerNonce: pending.triggerNonce }),
      parallelism: pods.length,
      generation: observation.deployed?.generation ?? generationOf(job),
    };
    const kept = await this.recordSavepoint(context, savepoint, [observation.deployed?.restoreFrom]);
    const message = `${pending.trigger} savepoint ${location} taken by ${pods.length} pods`;
    await this.write(job, { pendingSavepoint: null, ...answered, ...kept }, [{ type: 'Savepoint', status: 'True', reason: StreamJobReason.SavepointTaken, message }]);
    this.event(job, 'Normal', StreamJobReason.SavepointTaken, message);
    return { requeueAfterMs: observeEveryMs };
  }

  /** lastSavepoint and savepoints[] with the new one, after retention deleted what it no longer keeps (never what a deployment restores from). */
  private async recordSavepoint({ job }: Context, savepoint: Savepoint, protectedLocations: readonly (string | undefined)[]): Promise<StatusFields> {
    const all = [savepoint, ...(job.status?.savepoints ?? []).filter((kept) => kept.location !== savepoint.location)];
    const { kept, removed } = retain(all, job.spec.savepoints?.retention, this.deps.clock.now(), protectedLocations);
    for (const old of removed) {
      await this.deps.savepointStorage.delete(job, old.location).then(
        () => this.event(job, 'Normal', 'SavepointDeleted', `retention deleted savepoint ${old.location}`),
        (error: unknown) => this.deps.log.warn({ err: error, location: old.location }, 'could not delete a savepoint retention removed; it stays in its storage'),
      );
    }
    return { lastSavepoint: savepoint, savepoints: kept };
  }

  // ——— status and events ———

  /** Merge-patches status fields and conditions (with observedGeneration); true when anything changed. */
  private async write(job: StreamJob, fields: StatusFields, conditions: readonly NewCondition[]): Promise<boolean> {
    const generation = generationOf(job);
    let list: Condition[] | undefined = job.status?.conditions;
    for (const condition of conditions) list = setCondition(list, { ...condition, observedGeneration: generation }, this.deps.clock.now());
    const status = { ...fields, observedGeneration: generation, ...(list === undefined ? {} : { conditions: list }) };
    return patchStatusIfChanged(this.deps.jobs, job, status);
  }

  /** Writes, then returns the job as stored, so the next step of the same reconcile sees its own status. */
  private async writeAndRead(job: StreamJob, fields: StatusFields, conditions: readonly NewCondition[]): Promise<StreamJob> {
    await this.write(job, fields, conditions);
    return (await this.deps.jobs.get(keyOf(job))) ?? job;
  }

  private event(job: StreamJob, type: EventType, reason: string, message: string): void {
    this.deps.log.info({ kind: 'StreamJob', namespace: job.metadata.namespace, name: job.metadata.name, reason }, message);
    this.deps.events.record(job, type, reason, message);
  }
}

interface Context {
  job: StreamJob;
  token: string;
  observation: Observation;
}

function keyOf(job: StreamJob): ObjectKey {
  return { namespace: job.metadata.namespace!, name: job.metadata.name! };
}

/** What an upgrade's savepoint is recorded as: a suspend, a rescale, or an upgrade (a spec change, resume or restart). */
function savepointTriggerOf(reason: Upgrade['reason']): Savepoint['trigger'] {
  return reason === 'Suspend' ? 'suspend' : reason === 'Rescale' ? 'rescale' : 'upgrade';
}

/** The job's spec through the runtime's compiler, as the pods would compile it. */
function compileSpec(job: StreamJob): ReturnType<typeof compileJob> {
  return compileJob(jobManifest(job, job.spec));
}

function generationOf(job: StreamJob): number {
  return job.metadata.generation ?? 1;
}

/** A savepoint id all pods of the job write under: what took it, the generation, and when. */
function savepointId(trigger: string, generation: number, at: Date): string {
  return `${trigger}-g${generation}-${at.getTime().toString(36)}`;
}

function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined || !Number.isFinite(epochMs) ? null : new Date(epochMs).toISOString();
}

/** The pods that keep the job from being ready, with why, for messages. */
function notReadyPods(observation: Observation): string[] {
  return observation.pods
    .filter((pod) => !(pod.current && pod.ready && pod.runtime?.phase === 'running'))
    .map((pod) => `${pod.name} (${pod.terminating ? 'terminating' : !pod.current ? 'old template' : pod.runtime === undefined ? (pod.failures.waitingReason ?? 'not answering') : pod.runtime.phase})`);
}
