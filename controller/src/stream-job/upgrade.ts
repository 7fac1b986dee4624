// The upgrade state machine: Savepointing (stop the pods with a savepoint) → Deploying (the new spec from it) → Verifying (readiness) → done, or RollingBack to the last stable spec. Each state is in status before its action, so a restarted controller resumes.
import type { Savepoint, StreamJob, StreamJobSpec, Upgrade } from '@sluice/crds';
import { formatProblem, messageOf } from '@sluice/runtime';
import type { StatedCondition } from '../machinery/status-reporter.js';
import type { Result } from '../machinery/reconciler.js';
import {
  compileSpec,
  effectiveSpec,
  livePods,
  notReadyPods,
  observeEveryMs,
  ownedChangeSafetyNetMs,
  pollMs,
  type JobContext,
  type PartDeps,
} from './job-context.js';
import { StreamJobCondition, StreamJobEventReason, StreamJobReason, generationOf, statusOf, type JobStatusFields } from './job-status.js';
import { deploymentReady, type ObservedPod } from './observer.js';
import type { Deployment } from './resources.js';
import { savepointId, savepointTriggerOf, type Savepoints } from './savepoints.js';
import { desiredReplicas, heldBackAfterRollback, readinessTimeoutMs, specHash, upgradeModeOf } from './spec.js';

export class Upgrades {
  constructor(
    private readonly deps: PartDeps,
    private readonly savepoints: Savepoints,
  ) {}

  private countUpgrade(job: StreamJob, upgrade: Upgrade, result: 'started' | 'succeeded' | 'rolled_back'): void {
    this.deps.metrics?.upgrades.inc({ namespace: job.metadata.namespace, job: job.metadata.name, reason: upgrade.reason ?? 'SpecChanged', result });
  }

  /** Why the deployed job must change, or undefined when it runs what the spec says. */
  changeOf({ job, observation }: JobContext): Upgrade['reason'] | undefined {
    const deployed = observation.deployed!;
    // A rolled-back generation is not tried again: the stable spec runs until the spec changes.
    if (job.status?.rolledBackGeneration === generationOf(job)) return undefined;
    // A runtime spec that was rolled back is not tried again until it changes (effectiveSpec holds it back).
    const spec = effectiveSpec(job);
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

  async begin(context: JobContext, reason: NonNullable<Upgrade['reason']>): Promise<Result> {
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
    } else if (this.savepoints.retryWait(job) > 0 && base.mode === 'savepoint') {
      return { requeueAfterMs: this.savepoints.retryWait(job) };
    } else {
      const notRunning = observation.pods.filter((pod) => !pod.terminating && pod.runtime?.phase !== 'running');
      // Only a savepoint needs every pod running; the other modes stop what answers and replace the rest.
      if (base.mode === 'savepoint' && (notRunning.length > 0 || observation.pods.length === 0)) {
        const waitingFor = `waiting for ${notRunning.map((pod) => pod.name).join(', ') || 'the pods'} to run before stopping the job with a savepoint for generation ${base.targetGeneration} (${reason}); a job that cannot run upgrades from its last commit with spec.upgradeMode: last-state`;
        await this.deps.status.write(job, {}, [
          { type: StreamJobCondition.Progressing, status: 'True', reason: StreamJobReason.Upgrading, message: waitingFor },
        ]);
        return { requeueAfterMs: ownedChangeSafetyNetMs };
      }
      upgrade = base;
      message =
        base.mode === 'savepoint'
          ? `${reason}: stopping ${observation.pods.length} pods of generation ${deployed.generation} with savepoint ${base.savepointId}, then starting generation ${base.targetGeneration} on ${base.targetParallelism} pods from it`
          : `${reason}: stopping ${observation.pods.length} pods of generation ${deployed.generation}, then starting generation ${base.targetGeneration} ${base.mode === 'stateless' ? 'with empty state' : 'from their last committed state'}`;
    }
    // A new runtime spec may be tried; one held back since its rollback stays held back (a rescale of the stable one).
    const heldBack = status.rolledBackSpecHash !== undefined && status.rolledBackSpecHash === specHash(job.spec);
    const updated = await this.deps.status.writeAndRead(job, { phase: 'Upgrading', upgrade, ...(heldBack ? {} : { rolledBackSpecHash: null }) }, [
      { type: StreamJobCondition.Ready, status: 'False', reason: StreamJobReason.Upgrading, message },
      { type: StreamJobCondition.Progressing, status: 'True', reason: StreamJobReason.Upgrading, message },
    ]);
    this.deps.status.event(job, 'Normal', StreamJobEventReason.UpgradeStarted, message);
    this.countUpgrade(job, upgrade, 'started');
    return this.continue({ ...context, job: updated }, upgrade);
  }

  continue(context: JobContext, upgrade: Upgrade): Promise<Result> {
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
  private async stopPods(context: JobContext, upgrade: Upgrade): Promise<Result> {
    const { job, observation, token } = context;
    const pods = livePods(observation);
    const withSavepoint = upgrade.mode === 'savepoint';
    const id = upgrade.savepointId!;
    const answers = await Promise.allSettled(pods.map((pod) => this.stopPod(pod, token, withSavepoint, id)));
    const failures = answers.flatMap((answer, index) => (answer.status === 'rejected' ? [`${pods[index]!.name}: ${messageOf(answer.reason)}`] : []));
    if (withSavepoint && (failures.length > 0 || pods.length === 0)) {
      return this.savepointFailedInUpgrade(context, upgrade, failures.length > 0 ? failures.join('; ') : 'no runtime pod to take it');
    }
    const location = answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : undefined)).find((value) => value !== undefined);
    const next: Upgrade = { ...upgrade, state: 'Deploying' };
    const fields: JobStatusFields = { upgrade: next };
    const conditions: StatedCondition[] = [];
    if (withSavepoint && location !== undefined) {
      next.savepoint = location;
      const savepoint: Savepoint = {
        location,
        timestamp: this.deps.clock.now().toISOString(),
        trigger: savepointTriggerOf(upgrade.reason),
        parallelism: pods.length,
        generation: upgrade.fromGeneration ?? generationOf(job),
      };
      this.savepoints.taken(job, savepoint.trigger);
      Object.assign(fields, await this.savepoints.record(context, savepoint, [location]));
      conditions.push({
        type: StreamJobCondition.Savepoint,
        status: 'True',
        reason: StreamJobReason.SavepointTaken,
        message: `savepoint ${location} taken for ${upgrade.reason ?? 'the upgrade'}`,
      });
      this.deps.status.event(job, 'Normal', StreamJobReason.SavepointTaken, `stopped ${pods.length} pods with savepoint ${location}`);
    } else if (upgrade.mode === 'stateless') {
      this.deps.status.event(
        job,
        'Normal',
        StreamJobEventReason.Stopped,
        `stopped ${pods.length} pods; generation ${upgrade.targetGeneration} starts with empty state`,
      );
    }
    const updated = await this.deps.status.writeAndRead(job, fields, conditions);
    return this.deployTarget({ ...context, job: updated }, next);
  }

  /** One pod's part: its answer's savepoint location; a pod that already stopped with this savepoint answers from its status. */
  private async stopPod(pod: ObservedPod, token: string, withSavepoint: boolean, id: string): Promise<string | undefined> {
    if (pod.runtime?.phase === 'finished' && (!withSavepoint || pod.runtime.lastSavepoint?.includes(id) === true))
      return pod.runtime.lastSavepoint ?? undefined;
    if (pod.address === undefined) throw new Error('the pod has no address yet');
    const answer = await this.deps.control.stop(pod.address, token, withSavepoint ? { savepoint: true, id } : { savepoint: false });
    return answer.savepoint?.location;
  }

  /**
   * Strict: no savepoint, no upgrade. Pods that did stop are deleted, so the StatefulSet restarts them on the old spec
   * from their last commit; the failure is a condition and an Event; the key is retried with backoff.
   */
  private async savepointFailedInUpgrade(context: JobContext, upgrade: Upgrade, why: string): Promise<Result> {
    const { job, token } = context;
    for (const pod of context.observation.pods) {
      const now = pod.address === undefined ? undefined : await this.deps.control.status(pod.address, token).catch(() => undefined);
      if (now?.phase === 'finished' || now?.phase === 'stopping') await this.deps.objects.deletePod(job, pod.pod);
    }
    const retryInMs = this.savepoints.failed(job, savepointTriggerOf(upgrade.reason));
    const message = `the savepoint for ${upgrade.reason ?? 'the upgrade'} to generation ${upgrade.targetGeneration} failed, so the job keeps running generation ${upgrade.fromGeneration ?? '?'}: ${why}. Sluice tries again in ${Math.round(retryInMs / 1000)}s; fix the cause (is the savepoint location reachable?) or set spec.upgradeMode to last-state`;
    await this.deps.status.write(job, { upgrade: null, phase: 'Running' }, [
      { type: StreamJobCondition.Savepoint, status: 'False', reason: StreamJobReason.SavepointFailed, message },
      { type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.SavepointFailed, message },
      { type: StreamJobCondition.Progressing, status: 'False', reason: StreamJobReason.SavepointFailed, message },
    ]);
    this.deps.status.event(job, 'Warning', StreamJobReason.SavepointFailed, message);
    return { requeueAfterMs: retryInMs };
  }

  private targetDeployment(job: StreamJob, upgrade: Upgrade): Deployment {
    const spec = effectiveSpec(job);
    const deployment: Deployment = { spec, hash: specHash(spec), generation: generationOf(job), replicas: desiredReplicas(spec) };
    if (upgrade.savepoint !== undefined) deployment.restoreFrom = upgrade.savepoint;
    if (upgrade.mode === 'stateless' && upgrade.reason !== 'Resume' && upgrade.savepointId !== undefined) deployment.discardState = upgrade.savepointId;
    return deployment;
  }

  private async deployTarget(context: JobContext, upgrade: Upgrade): Promise<Result> {
    const { job } = context;
    const deployment = this.targetDeployment(job, upgrade);
    // The spec may have changed since the upgrade began: one that does not compile is never deployed. The stopped job
    // waits for a spec that does, or is rolled back once readinessTimeout has passed.
    const compiled = compileSpec(job);
    if (!compiled.ok) {
      const message = `generation ${generationOf(job)} is refused while the job is stopped for an upgrade: ${compiled.problems.map(formatProblem).join('; ')}; apply a spec that compiles, or the job rolls back to generation ${job.status?.lastStableGeneration ?? '?'} after readinessTimeout`;
      if (await this.deps.status.write(job, {}, [{ type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.InvalidSpec, message }]))
        this.deps.status.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
      return this.awaitReadiness(context, upgrade, deployment);
    }
    if (!(await this.rollOut(context, deployment))) return { requeueAfterMs: ownedChangeSafetyNetMs };
    const next: Upgrade = { ...upgrade, state: 'Verifying', targetGeneration: deployment.generation };
    await this.deps.status.write(context.job, { upgrade: next, deployedGeneration: deployment.generation }, [
      {
        type: StreamJobCondition.Progressing,
        status: 'True',
        reason: StreamJobReason.Upgrading,
        message: `starting generation ${deployment.generation} on ${deployment.replicas} pods`,
      },
    ]);
    return { requeueAfterMs: pollMs };
  }

  /**
   * Makes the StatefulSet describe the deployment and replaces every pod of an older template; true once only pods of
   * this deployment are left (they may still be starting).
   */
  private async rollOut({ job, observation }: JobContext, deployment: Deployment): Promise<boolean> {
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

  private async verify(context: JobContext, upgrade: Upgrade): Promise<Result> {
    const { job, observation } = context;
    const target = this.targetDeployment(job, upgrade);
    const deployed = observation.deployed;
    const changedAgain =
      deployed === undefined || deployed.hash !== target.hash || deployed.replicas !== target.replicas || deployed.restartNonce !== target.spec.restartNonce;
    const compiled = changedAgain ? compileSpec(job) : undefined;
    if (compiled?.ok === false) {
      // A newer spec that does not compile is not deployed; the one starting goes on being verified (or rolled back).
      const message = `generation ${generationOf(job)} is refused while generation ${upgrade.targetGeneration} starts: ${compiled.problems.map(formatProblem).join('; ')}`;
      if (await this.deps.status.write(job, {}, [{ type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.InvalidSpec, message }]))
        this.deps.status.event(job, 'Warning', StreamJobReason.InvalidSpec, message);
      const starting = deployed === undefined ? undefined : await this.deps.objects.deployedSpec(job, deployed.hash);
      if (starting !== undefined && deploymentReady(observation)) return this.finishUpgrade(context, upgrade, starting);
      return this.awaitReadiness(context, upgrade, { ...target, hash: deployed?.hash ?? target.hash });
    }
    // The spec changed again while the new one was starting: deploy the newer one from the same savepoint.
    if (changedAgain) {
      const next: Upgrade = { ...upgrade, state: 'Deploying', targetGeneration: generationOf(job) };
      await this.deps.status.write(job, { upgrade: next }, []);
      return this.deployTarget(context, next);
    }
    if (deploymentReady(observation)) return this.finishUpgrade(context, upgrade, target.spec);
    return this.awaitReadiness(context, upgrade, target);
  }

  /** Not ready yet: roll back once readinessTimeout has passed since the upgrade began, else look again soon. */
  private async awaitReadiness(context: JobContext, upgrade: Upgrade, target: Deployment): Promise<Result> {
    const { job, observation } = context;
    const elapsed = this.deps.clock.now().getTime() - new Date(upgrade.startedAt ?? 0).getTime();
    const lastStable = statusOf(job).lastStableSpec;
    if (elapsed > readinessTimeoutMs(job.spec) && upgrade.reason !== 'Suspend' && lastStable !== undefined) {
      const message = `generation ${upgrade.targetGeneration} was not ready within ${job.spec.readinessTimeout ?? '5m'} (${notReadyPods(observation).join(', ') || 'pods missing'}): rolling back to generation ${job.status?.lastStableGeneration ?? '?'}${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`}`;
      const next: Upgrade = { ...upgrade, state: 'RollingBack' };
      await this.deps.status.write(
        job,
        {
          upgrade: next,
          phase: 'RollingBack',
          rolledBackGeneration: upgrade.targetGeneration,
          rolledBackSpecHash: heldBackAfterRollback(job.spec, target.hash, job.status?.rolledBackSpecHash) ?? null,
        },
        [
          { type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.RollingBack, message },
          { type: StreamJobCondition.Progressing, status: 'True', reason: StreamJobReason.RollingBack, message },
        ],
      );
      this.deps.status.event(job, 'Warning', StreamJobEventReason.UpgradeFailed, message);
      return { requeueAfterMs: pollMs };
    }
    await this.deps.status.write(job, {}, [
      {
        type: StreamJobCondition.Progressing,
        status: 'True',
        reason: StreamJobReason.Upgrading,
        message: `starting generation ${target.generation}: waiting for ${notReadyPods(observation).join(', ') || 'the pods'}`,
      },
    ]);
    // A pod turning ready brings the job back at once; the deadline does not announce itself.
    const untilDeadlineMs = readinessTimeoutMs(job.spec) - elapsed + 1;
    return { requeueAfterMs: untilDeadlineMs > 0 ? Math.min(ownedChangeSafetyNetMs, untilDeadlineMs) : ownedChangeSafetyNetMs };
  }

  /** The pods of `spec` are all ready: the upgrade is over, and `spec` is the new stable one. */
  private async finishUpgrade({ job, observation }: JobContext, upgrade: Upgrade, spec: StreamJobSpec): Promise<Result> {
    const suspended = desiredReplicas(spec) === 0;
    const started = new Date(upgrade.startedAt ?? 0).getTime();
    const seconds = ((this.deps.clock.now().getTime() - started) / 1000).toFixed(1);
    const message = suspended
      ? `suspended in ${seconds}s${upgrade.savepoint === undefined ? '' : `; savepoint ${upgrade.savepoint}`}`
      : `generation ${upgrade.targetGeneration} runs on ${desiredReplicas(spec)} pods (${upgrade.reason ?? 'upgrade'} in ${seconds}s${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`})`;
    await this.deps.status.write(
      job,
      {
        upgrade: null,
        phase: suspended ? 'Suspended' : 'Running',
        parallelism: livePods(observation).length,
        deployedGeneration: upgrade.targetGeneration,
        lastStableSpec: spec,
        lastStableGeneration: upgrade.targetGeneration,
      },
      [
        {
          type: StreamJobCondition.Ready,
          status: suspended ? 'False' : 'True',
          reason: suspended ? StreamJobReason.Suspended : StreamJobReason.Running,
          message,
        },
        { type: StreamJobCondition.Upgrade, status: 'True', reason: StreamJobReason.Upgraded, message },
        { type: StreamJobCondition.Progressing, status: 'False', reason: StreamJobReason.Upgraded, message },
      ],
    );
    const reason =
      upgrade.reason === 'Suspend'
        ? StreamJobReason.Suspended
        : upgrade.reason === 'Resume'
          ? StreamJobEventReason.Resumed
          : upgrade.reason === 'Rescale'
            ? StreamJobEventReason.Rescaled
            : StreamJobReason.Upgraded;
    this.deps.status.event(job, 'Normal', reason, message);
    this.countUpgrade(job, upgrade, 'succeeded');
    this.deps.metrics?.upgradeDuration.observe({ reason: upgrade.reason ?? 'SpecChanged' }, (this.deps.clock.now().getTime() - started) / 1000);
    await this.deps.objects.deleteConfigMapsExcept(job, [specHash(spec)]);
    return { requeueAfterMs: observeEveryMs };
  }

  /** Redeploys lastStableSpec from the upgrade's savepoint, then the job runs there until the spec changes again. */
  private async rollBack(context: JobContext, upgrade: Upgrade): Promise<Result> {
    const { job, observation } = context;
    const spec = statusOf(job).lastStableSpec!;
    const generation = job.status?.lastStableGeneration ?? generationOf(job);
    const deployment: Deployment = { spec, hash: specHash(spec), generation, replicas: desiredReplicas(spec) };
    if (upgrade.savepoint !== undefined) deployment.restoreFrom = upgrade.savepoint;
    if (!(await this.rollOut(context, deployment)) || !deploymentReady(observation)) return { requeueAfterMs: ownedChangeSafetyNetMs };
    const message = `generation ${upgrade.targetGeneration} was not ready in time and was rolled back: generation ${generation} runs again${upgrade.savepoint === undefined ? '' : ` from savepoint ${upgrade.savepoint}`}. Fix the spec and apply it again`;
    await this.deps.status.write(job, { upgrade: null, phase: 'Running', deployedGeneration: generation, parallelism: deployment.replicas }, [
      {
        type: StreamJobCondition.Ready,
        status: 'True',
        reason: StreamJobReason.Running,
        message: `${deployment.replicas} runtime pods run generation ${generation}`,
      },
      { type: StreamJobCondition.Upgrade, status: 'False', reason: StreamJobReason.RolledBack, message },
      { type: StreamJobCondition.Progressing, status: 'False', reason: StreamJobReason.RolledBack, message },
    ]);
    this.deps.status.event(job, 'Warning', StreamJobReason.RolledBack, message);
    this.countUpgrade(job, upgrade, 'rolled_back');
    return { requeueAfterMs: observeEveryMs };
  }
}
