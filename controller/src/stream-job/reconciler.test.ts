// The StreamJob reconciler's decisions with the API server, the StatefulSet and the runtime pods in memory: each upgrade state, each failure, a restart at each step, rollback and savepoints.
import type { Condition, StreamJob, StreamJobSpec } from '@sluice/crds';
import { pino } from 'pino';
import type { EventRecorder } from '../machinery/events.js';
import { ManualClock } from '../machinery/manual-clock.js';
import { TerminalError, type Result } from '../machinery/reconciler.js';
import { TestingResources } from '../machinery/testing-resources.js';
import { podIpAddress } from './observer.js';
import { StreamJobReconciler, type StreamJobReconcilerDeps } from './reconciler.js';
import { specHash } from './spec.js';
import { TestingCluster } from './testing-cluster.js';
import { TestingRuntimeControl } from './testing-runtime-control.js';

const key = { namespace: 'payments', name: 'fraud' };
const stableImage = 'ghcr.io/sluice/sluice-runtime:0.1.0';

function fraudSpec(): StreamJobSpec {
  return {
    sources: [
      {
        name: 'transactions',
        kafka: { topic: 'transactions', keyedBy: 'customer_id' },
        format: 'json',
        eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
      },
    ],
    pipeline: [
      { keyBy: { field: 'customer_id' } },
      { id: 'velocity', window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] },
    ],
    sinks: [{ name: 'features', kafka: { topic: 'features', key: '{customer_id}' } }],
    checkpoints: { location: 's3://savepoints/job', interval: '30s' },
    parallelism: 2,
    readinessTimeout: '10s',
  };
}

function setup(spec: StreamJobSpec = fraudSpec()) {
  const clock = new ManualClock();
  const jobs = new TestingResources<StreamJob>();
  const control = new TestingRuntimeControl('control-token');
  const cluster = new TestingCluster(jobs, control);
  const events: string[] = [];
  const deletedSavepoints: string[] = [];
  const partitions = new Map([['transactions', 2]]);
  const recorder: EventRecorder = { record: (_object, type, reason) => events.push(`${type} ${reason}`) };
  const deps: StreamJobReconcilerDeps = {
    jobs,
    objects: cluster,
    control,
    podAddress: podIpAddress(8080),
    sourcePartitions: (topic) => Promise.resolve(partitions.get(topic)),
    savepointStorage: { delete: (_job, location) => Promise.resolve(void deletedSavepoints.push(location)) },
    events: recorder,
    clock,
    log: pino({ level: 'silent' }),
  };
  let reconciler = new StreamJobReconciler(deps);
  const inMemory = (): number => reconciler.jobsInMemory;
  jobs.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { ...key }, spec });

  const read = async (): Promise<StreamJob> => (await jobs.get(key))!;
  /** One reconcile; then the cluster catches up and time moves on to when the reconciler asked to come back. */
  const step = async (): Promise<Result> => {
    const result = await reconciler.reconcile(key);
    cluster.tick(clock.now());
    clock.advance(result.requeueAfterMs ?? 10_000);
    return result;
  };
  const until = async (what: string, done: (job: StreamJob) => boolean, steps = 100): Promise<StreamJob> => {
    for (let count = 0; count < steps; count++) {
      await step();
      const job = await read();
      if (done(job)) return job;
    }
    throw new Error(`${what}: not after ${steps} reconciles; status ${JSON.stringify((await read()).status)}`);
  };
  const settled = (job: StreamJob): boolean =>
    job.status?.upgrade === undefined &&
    (job.status?.phase === 'Running' || job.status?.phase === 'Suspended') &&
    condition(job, 'Ready')?.reason !== 'Deploying';
  return {
    clock,
    jobs,
    control,
    cluster,
    events,
    deletedSavepoints,
    partitions,
    read,
    inMemory,
    step,
    /** One reconcile and nothing else, as a watch event brings (the cluster and the clock stay). */
    reconcile: () => reconciler.reconcile(key),
    until,
    /** Runs until nothing is in motion: no upgrade, the pods running (or suspended). */
    settle: (steps?: number) => until('settled', settled, steps),
    /** Applies a changed spec as kubectl apply would; its generation. */
    apply: async (change: Partial<StreamJobSpec>): Promise<number> => {
      const current = await read();
      return jobs.apply({ ...current, spec: { ...current.spec, ...change } }).metadata.generation!;
    },
    /** A new controller process: nothing in memory, only what status says. */
    restartController: () => {
      reconciler = new StreamJobReconciler(deps);
    },
    /** The upgrade states status went through, in order. */
    upgradeStates: () =>
      jobs.writes.map((write) => write.object.status?.upgrade?.state).filter((state, index, all) => state !== undefined && state !== all[index - 1]),
    /** The last StatefulSet the controller wrote, as `deploy <hash> g<generation> x<replicas> from <savepoint>`. */
    lastDeploy: () => cluster.changes.filter((change) => change.startsWith('deploy ')).at(-1),
    images: async () => (await cluster.pods()).map((pod) => pod.spec!.containers[0]!.image),
  };
}

function condition(job: StreamJob, type: string): Condition | undefined {
  return job.status?.conditions?.find((candidate) => candidate.type === type);
}

describe('StreamJobReconciler', () => {
  describe('the first deployment and the steady state', () => {
    it('creates the changelog topics, deploys generation 1 on spec.parallelism pods and reports Running once every pod runs', async () => {
      const world = setup();
      const job = await world.settle();
      expect([...world.cluster.topics.values()].map((topic) => topic.spec.partitions)).toEqual([2]);
      expect(world.cluster.changes).toEqual([`deploy ${specHash(job.spec)} g1 x2`]);
      expect(job.status).toMatchObject({ phase: 'Running', deployedGeneration: 1, lastStableGeneration: 1, parallelism: 2, observedGeneration: 1 });
      expect(condition(job, 'Ready')).toMatchObject({ status: 'True', reason: 'Running', message: '2 runtime pods run generation 1' });
      expect(world.events).toEqual(['Normal Deploying', 'Normal Running']);
    });

    it('writes nothing more once the job runs', async () => {
      const world = setup();
      await world.settle();
      const writes = world.jobs.writes.length;
      for (let count = 0; count < 5; count++) await world.step();
      expect(world.jobs.writes.length).toBe(writes);
    });

    it('while its pods start, leaves noticing to the watches of its StatefulSet and pods: it looks again on its own only after 30 s', async () => {
      const world = setup();
      const deployed = await world.reconcile();
      expect(world.cluster.changes).toHaveLength(1);
      expect(deployed).toEqual({ requeueAfterMs: 30_000 });
      // The StatefulSet and the pods changed: the watch events bring the job back, not a poll.
      world.cluster.tick(world.clock.now());
      expect(await world.reconcile()).toEqual({ requeueAfterMs: 10_000 });
      expect((await world.read()).status?.phase).toBe('Running');
    });

    it('forgets a deleted job: nothing of it stays in memory', async () => {
      const world = setup({ ...fraudSpec(), savepoints: { interval: '1m' } });
      await world.settle();
      expect(world.inMemory()).toBe(1);
      world.jobs.delete(key);
      expect(await world.step()).toEqual({});
      expect(world.inMemory()).toBe(0);
    });

    it('waits for its source topic before deploying, and says so', async () => {
      const world = setup();
      world.partitions.clear();
      const result = await world.step();
      expect(result).toEqual({ requeueAfterMs: 2_000 });
      const job = await world.read();
      expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForSourceTopic' });
      expect(world.cluster.changes).toEqual([]);
    });

    it('refuses a spec that does not compile before deploying anything, with a terminal error that names the field', async () => {
      const spec = fraudSpec();
      spec.pipeline = [{ filter: 'amount >' }, ...spec.pipeline!];
      const world = setup(spec);
      await expect(world.step()).rejects.toBeInstanceOf(TerminalError);
      const job = await world.read();
      expect(job.status?.phase).toBe('Failed');
      expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      expect(condition(job, 'Ready')?.message).toMatch(/spec\.pipeline\[0\]\.filter/);
      expect(world.cluster.changes).toEqual([]);
    });

    it('refuses a job that repartitions after steps that keep state, naming the keyBy, the source and the fix, rather than count each partition apart', async () => {
      const spec = fraudSpec();
      spec.sources[0]!.kafka = { topic: 'transactions', keyedBy: 'account_id' };
      // A window by account (the topic's key), then a keyBy by customer: the repartition stage would start after state.
      spec.pipeline!.unshift(
        { keyBy: { field: 'account_id' } },
        { window: { type: 'tumbling', size: '1m' }, aggregate: [{ name: 'customer_id', fn: 'count' }] },
      );
      const world = setup(spec);
      await expect(world.step()).rejects.toBeInstanceOf(TerminalError);
      const job = await world.read();
      expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      const message = condition(job, 'Ready')?.message;
      expect(message).toMatch(/spec\.pipeline\[2\]\.keyBy: keys by customer_id, but source transactions \(Kafka topic transactions\) is keyed by account_id/);
      expect(message).toMatch(
        /steps before the keyBy that keep state \(window-1\); move them after the keyBy, or .* set spec\.sources\[0\]\.kafka\.keyedBy: "customer_id"/,
      );
      expect(world.cluster.changes).toEqual([]);
    });

    it('keeps running the deployed generation when a new spec does not compile, and clears the refusal when it is taken back', async () => {
      const world = setup();
      await world.settle();
      const pipeline = fraudSpec().pipeline!;
      await world.apply({ pipeline: [{ filter: 'amount >' }, ...pipeline] });
      let job = await world.until('refused', (current) => condition(current, 'Upgrade')?.reason === 'InvalidSpec');
      expect(job.status).toMatchObject({ phase: 'Running', deployedGeneration: 1 });
      await world.apply({ pipeline });
      job = await world.until('refusal cleared', (current) => condition(current, 'Upgrade')?.status === 'True');
      expect(world.cluster.changes).toHaveLength(1);
      expect(world.control.requests).toEqual([]);
    });
  });

  describe('upgrades', () => {
    it('moves a changed spec through Savepointing, Deploying and Verifying, both pods stopping with one savepoint the new pods start from', async () => {
      const world = setup();
      await world.settle();
      const generation = await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      const job = await world.settle();
      expect(world.upgradeStates()).toEqual(['Savepointing', 'Deploying', 'Verifying']);
      expect(world.control.requests.map((request) => request.replace(/http:\/\/[^ ]+/, 'pod'))).toEqual(['stop pod savepoint=true', 'stop pod savepoint=true']);
      const savepoint = job.status!.lastSavepoint!;
      expect(savepoint).toMatchObject({ trigger: 'upgrade', parallelism: 2, generation: 1 });
      expect(world.lastDeploy()).toBe(`deploy ${specHash(job.spec)} g${generation} x2 from ${savepoint.location}`);
      expect(job.status).toMatchObject({ phase: 'Running', deployedGeneration: generation, lastStableGeneration: generation });
      expect(condition(job, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });
      expect(condition(job, 'Progressing')).toMatchObject({ status: 'False', reason: 'Upgraded' });
      expect(await world.images()).toEqual(['ghcr.io/sluice/sluice-runtime:0.2.0', 'ghcr.io/sluice/sluice-runtime:0.2.0']);
      expect(world.events.slice(2)).toEqual(['Normal UpgradeStarted', 'Normal SavepointTaken', 'Normal Upgraded']);
      expect(world.cluster.configMapHashes()).toEqual([specHash(job.spec)]);
    });

    it('rescales through a savepoint: three pods start from what two wrote', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ parallelism: 3 });
      const job = await world.settle();
      expect(job.status?.lastSavepoint).toMatchObject({ trigger: 'rescale', parallelism: 2 });
      expect(job.status?.parallelism).toBe(3);
      expect(await world.images()).toHaveLength(3);
      expect(world.events.at(-1)).toBe('Normal Rescaled');
    });

    it('suspends with a savepoint and resumes from it', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ suspend: true });
      let job = await world.settle();
      expect(job.status?.phase).toBe('Suspended');
      expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
      expect(await world.images()).toEqual([]);
      const suspendedWith = job.status!.lastSavepoint!;
      expect(suspendedWith.trigger).toBe('suspend');

      const resumed = await world.apply({ suspend: false });
      job = await world.settle();
      expect(job.status).toMatchObject({ phase: 'Running', deployedGeneration: resumed });
      expect(world.lastDeploy()).toBe(`deploy ${specHash(job.spec)} g${resumed} x2 from ${suspendedWith.location}`);
      expect(world.events.filter((event) => /Suspended|Resumed/.test(event))).toEqual(['Normal Suspended', 'Normal Resumed']);
    });

    it('restarts the pods when spec.restartNonce changes, with the same runtime spec', async () => {
      const world = setup();
      const before = await world.settle();
      await world.apply({ restartNonce: 'now' });
      const job = await world.settle();
      expect(specHash(job.spec)).toBe(specHash(before.spec));
      expect((await world.cluster.statefulSet())?.metadata?.annotations?.['sluice.dev/restart-nonce']).toBe('now');
      expect(world.upgradeStates()).toEqual(['Savepointing', 'Deploying', 'Verifying']);
    });

    it('in upgradeMode last-state stops the pods without a savepoint and starts the new ones from their last commit', async () => {
      const world = setup({ ...fraudSpec(), upgradeMode: 'last-state' });
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      const job = await world.settle();
      expect(world.control.requests.every((request) => request.endsWith('savepoint=false'))).toBe(true);
      expect(job.status?.lastSavepoint).toBeUndefined();
      expect(world.lastDeploy()).toBe(`deploy ${specHash(job.spec)} g2 x2`);
    });
    it('in upgradeMode stateless starts the new pods with empty state, once, under the upgrade savepoint id', async () => {
      const world = setup({ ...fraudSpec(), upgradeMode: 'stateless' });
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      const job = await world.settle();
      expect(world.control.requests.every((request) => request.endsWith('savepoint=false'))).toBe(true);
      const env = (await world.cluster.statefulSet())!.spec!.template.spec!.containers[0]!.env ?? [];
      expect(env.find((variable) => variable.name === 'SLUICE_DISCARD_STATE')?.value).toMatch(/^upgrade-g2-/);
      expect(env.find((variable) => variable.name === 'SLUICE_RESTORE_FROM')).toBeUndefined();
      expect(job.status?.lastSavepoint).toBeUndefined();
      expect(world.events).toContain('Normal Stopped');
    });
  });

  describe('failures', () => {
    it('cancels an upgrade whose savepoint fails on one pod: the pod that stopped restarts on the old spec, and Sluice tries again after a backoff', async () => {
      const world = setup();
      await world.settle();
      const [, second] = world.control.runtimes();
      second![1].savepointFailure = 'PutObject s3://savepoints: access denied';
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      const result = await world.step();
      let job = await world.read();
      expect(job.status?.upgrade).toBeUndefined();
      expect(job.status?.phase).toBe('Running');
      for (const type of ['Savepoint', 'Upgrade', 'Progressing']) expect(condition(job, type)).toMatchObject({ status: 'False', reason: 'SavepointFailed' });
      expect(condition(job, 'Upgrade')?.message).toMatch(/keeps running generation 1: fraud-1: .*access denied/);
      expect(world.cluster.changes).toEqual([expect.stringMatching(/^deploy /), 'delete fraud-0']);
      expect(result.requeueAfterMs).toBeGreaterThanOrEqual(4_000);
      expect(result.requeueAfterMs).toBeLessThanOrEqual(6_000);
      expect(world.events.at(-1)).toBe('Warning SavepointFailed');

      for (const [, runtime] of world.control.runtimes()) runtime.savepointFailure = undefined;
      job = await world.until('upgraded', (current) => condition(current, 'Upgrade')?.reason === 'Upgraded');
      expect(job.status?.deployedGeneration).toBe(2);
    });

    it('waits for a pod that does not answer before stopping anything, and says how to upgrade without it', async () => {
      const world = setup();
      await world.settle();
      const [, second] = world.control.runtimes();
      second![1].answering = false;
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      for (let count = 0; count < 5; count++) await world.step();
      const job = await world.read();
      expect(job.status?.upgrade).toBeUndefined();
      expect(condition(job, 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
      expect(condition(job, 'Progressing')?.message).toMatch(/waiting for fraud-1 to run .* spec\.upgradeMode: last-state/);
      expect(world.control.requests).toEqual([]);
    });

    it('in upgradeMode last-state upgrades past a pod that does not answer', async () => {
      const world = setup({ ...fraudSpec(), upgradeMode: 'last-state' });
      await world.settle();
      const [, second] = world.control.runtimes();
      second![1].answering = false;
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      const job = await world.settle();
      expect(job.status?.deployedGeneration).toBe(2);
      expect(condition(job, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });
    });

    it('rolls back a spec whose pods are not ready within readinessTimeout, from the upgrade savepoint, and does not try that generation again', async () => {
      const world = setup();
      await world.settle();
      const broken = await world.apply({ image: 'ghcr.io/sluice/no-such-runtime:1' });
      let job = await world.until('rolled back', (current) => condition(current, 'Upgrade')?.reason === 'RolledBack');
      expect(world.upgradeStates()).toEqual(['Savepointing', 'Deploying', 'Verifying', 'RollingBack']);
      expect(job.status).toMatchObject({ phase: 'Running', rolledBackGeneration: broken, deployedGeneration: 1 });
      expect(job.status?.rolledBackSpecHash).toBe(specHash(job.spec));
      expect(condition(job, 'Upgrade')?.message).toMatch(
        new RegExp(`generation ${broken} was not ready in time .* from savepoint s3://savepoints/job/upgrade-g${broken}-`),
      );
      expect(world.lastDeploy()).toBe(`deploy ${specHash(fraudSpec())} g1 x2 from ${job.status!.lastSavepoint!.location}`);
      expect(await world.images()).toEqual([stableImage, stableImage]);
      expect(world.events.slice(-2)).toEqual(['Warning UpgradeFailed', 'Warning RolledBack']);

      const changes = world.cluster.changes.length;
      for (let count = 0; count < 20; count++) await world.step();
      job = await world.read();
      expect(job.status?.upgrade).toBeUndefined();
      expect(world.cluster.changes).toHaveLength(changes);
      expect(world.events.filter((event) => event === 'Normal UpgradeStarted')).toHaveLength(1);
    });

    it('waiting for the new pods to be ready, comes back on its own when readinessTimeout runs out, which no watch event announces', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/no-such-runtime:1' });
      // Each change to the StatefulSet and pods brings the job back at once (the watches), the clock standing still.
      let job = await world.read();
      for (let count = 0; count < 10 && job.status?.upgrade?.state !== 'Verifying'; count++) {
        await world.reconcile();
        world.cluster.tick(world.clock.now());
        job = await world.read();
      }
      expect(job.status?.upgrade?.state).toBe('Verifying');
      world.clock.advance(4_000);
      const waiting = await world.reconcile();
      // readinessTimeout is 10s: rolled back once more than 10 s have passed since the upgrade began.
      expect(world.clock.now().getTime() + waiting.requeueAfterMs!).toBe(Date.parse(job.status!.upgrade!.startedAt!) + 10_001);
      world.clock.advance(waiting.requeueAfterMs!);
      await world.reconcile();
      expect((await world.read()).status?.upgrade?.state).toBe('RollingBack');
    });

    it('keeps a rolled-back spec held back when a rescale of the stable spec is itself rolled back, never alternating with the broken spec (commit 8370223)', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/no-such-runtime:1' });
      await world.until('rolled back', (current) => condition(current, 'Upgrade')?.reason === 'RolledBack');
      const brokenHash = specHash((await world.read()).spec);

      // The rescale runs the stable runtime spec on three pods; the third never starts.
      world.cluster.cannotStart = (pod) => pod.metadata!.name === 'fraud-2' || pod.spec!.containers[0]!.image!.includes('no-such-runtime');
      const rescale = await world.apply({ parallelism: 3 });
      let job = await world.until(
        'rescale rolled back',
        (current) => current.status?.rolledBackGeneration === rescale && condition(current, 'Upgrade')?.reason === 'RolledBack',
      );
      expect(job.status?.rolledBackSpecHash).toBe(brokenHash);
      expect(world.cluster.changes.filter((change) => change.startsWith(`deploy ${brokenHash}`))).toHaveLength(1);

      const upgrades = world.events.filter((event) => event === 'Normal UpgradeStarted').length;
      for (let count = 0; count < 40; count++) await world.step();
      job = await world.read();
      expect(job.status?.upgrade).toBeUndefined();
      expect(world.events.filter((event) => event === 'Normal UpgradeStarted')).toHaveLength(upgrades);
      expect(world.cluster.changes.filter((change) => change.startsWith(`deploy ${brokenHash}`))).toHaveLength(1);
      expect(await world.images()).toEqual([stableImage, stableImage]);
    });
  });

  describe('a controller restarted in the middle of an upgrade', () => {
    it('in Savepointing (pods stopped, savepoint not yet in status) takes their savepoint from the pods and stops nothing twice', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      world.jobs.beforeStatusPatch = (status) => {
        if ((status as StreamJob['status'])?.upgrade?.state === 'Deploying') throw new Error('the controller crashed');
      };
      await expect(world.step()).rejects.toThrow('the controller crashed');
      world.jobs.beforeStatusPatch = undefined;
      expect((await world.read()).status?.upgrade?.state).toBe('Savepointing');
      const stoppedWith = world.control.runtimes().map(([, runtime]) => runtime.lastSavepoint);

      world.restartController();
      const job = await world.settle();
      expect(world.control.requests.filter((request) => request.startsWith('stop'))).toHaveLength(2);
      expect(job.status?.lastSavepoint?.location).toBe(stoppedWith[0]);
      expect(world.lastDeploy()).toBe(`deploy ${specHash(job.spec)} g2 x2 from ${stoppedWith[0]}`);
      expect(condition(job, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });
    });

    it('in Deploying (savepoint in status, StatefulSet not yet written) deploys from that savepoint', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      world.cluster.crashOnNextWrite = new Error('the controller crashed');
      await expect(world.step()).rejects.toThrow('the controller crashed');
      const stopped = await world.read();
      expect(stopped.status?.upgrade).toMatchObject({ state: 'Deploying', savepoint: stopped.status?.lastSavepoint?.location });

      world.restartController();
      const job = await world.settle();
      expect(world.control.requests.filter((request) => request.startsWith('stop'))).toHaveLength(2);
      expect(world.lastDeploy()).toBe(`deploy ${specHash(job.spec)} g2 x2 from ${stopped.status!.upgrade!.savepoint!}`);
      expect(job.status?.deployedGeneration).toBe(2);
    });

    it.each(['Deploying', 'Verifying'] as const)('in %s (as status says) carries the upgrade through', async (state) => {
      const world = setup();
      await world.settle();
      await world.apply({ image: 'ghcr.io/sluice/sluice-runtime:0.2.0' });
      await world.until(state, (current) => current.status?.upgrade?.state === state);
      world.restartController();
      const job = await world.settle();
      expect(condition(job, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });
      expect(world.control.requests.filter((request) => request.startsWith('stop'))).toHaveLength(2);
      expect(await world.images()).toEqual(['ghcr.io/sluice/sluice-runtime:0.2.0', 'ghcr.io/sluice/sluice-runtime:0.2.0']);
    });

    it('in RollingBack (as status says) finishes the rollback', async () => {
      const world = setup();
      await world.settle();
      const broken = await world.apply({ image: 'ghcr.io/sluice/no-such-runtime:1' });
      await world.until('RollingBack', (current) => current.status?.upgrade?.state === 'RollingBack');
      world.restartController();
      const job = await world.until('rolled back', (current) => condition(current, 'Upgrade')?.reason === 'RolledBack');
      expect(job.status).toMatchObject({ phase: 'Running', rolledBackGeneration: broken, deployedGeneration: 1 });
      expect(await world.images()).toEqual([stableImage, stableImage]);
    });
  });

  describe('savepoints', () => {
    it('takes a savepoint when spec.savepointTrigger changes, on every pod under one id', async () => {
      const world = setup({ ...fraudSpec(), savepointTrigger: 'in-the-first-manifest' });
      await world.settle();
      expect(world.control.requests).toEqual([]);
      await world.apply({ savepointTrigger: 'before-migration' });
      const job = await world.until('savepoint', (current) => condition(current, 'Savepoint')?.status === 'True');
      const ids = world.control.requests.map((request) => request.split(' ')[2]);
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(1);
      expect(job.status).toMatchObject({
        savepointTriggerNonce: 'before-migration',
        lastSavepoint: { trigger: 'manual', triggerNonce: 'before-migration', parallelism: 2 },
      });
      expect(job.status?.pendingSavepoint).toBeUndefined();
      expect(world.events.at(-1)).toBe('Normal SavepointTaken');
    });

    it('after a restart with a savepoint pending (asked of the pods, not yet recorded) asks again under the same id and records it', async () => {
      const world = setup();
      await world.settle();
      await world.apply({ savepointTrigger: 'before-migration' });
      world.jobs.beforeStatusPatch = (status) => {
        if ('lastSavepoint' in status) throw new Error('the controller crashed');
      };
      await expect(world.step()).rejects.toThrow('the controller crashed');
      world.jobs.beforeStatusPatch = undefined;
      const pending = (await world.read()).status?.pendingSavepoint;
      expect(pending).toMatchObject({ trigger: 'manual', triggerNonce: 'before-migration' });

      world.clock.advance(60_000);
      world.restartController();
      const job = await world.until('savepoint', (current) => condition(current, 'Savepoint')?.status === 'True');
      expect(world.control.requests.map((request) => request.split(' ')[2])).toEqual([pending!.id, pending!.id, pending!.id, pending!.id]);
      expect(job.status?.lastSavepoint?.location).toBe(`s3://savepoints/job/${pending!.id}`);
      expect(job.status?.pendingSavepoint).toBeUndefined();
    });

    it('reports a failed manual savepoint and does not retry it; the job goes on running', async () => {
      const world = setup();
      await world.settle();
      for (const [, runtime] of world.control.runtimes()) runtime.savepointFailure = 'the bucket does not exist';
      await world.apply({ savepointTrigger: 'one' });
      const job = await world.until('failed', (current) => condition(current, 'Savepoint')?.reason === 'SavepointFailed');
      expect(condition(job, 'Savepoint')?.message).toMatch(/the bucket does not exist.*change spec\.savepointTrigger again/);
      expect(job.status?.phase).toBe('Running');
      const requests = world.control.requests.length;
      for (let count = 0; count < 5; count++) await world.step();
      expect(world.control.requests).toHaveLength(requests);
    });

    it('takes periodic savepoints and deletes the ones retention no longer keeps', async () => {
      const world = setup({ ...fraudSpec(), savepoints: { interval: '1m', retention: { count: 2 } } });
      await world.settle();
      const job = await world.until('three savepoints', () => world.deletedSavepoints.length === 1, 400);
      expect(job.status?.savepoints?.map((savepoint) => savepoint.trigger)).toEqual(['periodic', 'periodic']);
      expect(world.deletedSavepoints[0]).toMatch(/^s3:\/\/savepoints\/job\/periodic-g1-/);
      expect(job.status?.savepoints?.map((savepoint) => savepoint.location)).not.toContain(world.deletedSavepoints[0]);
      expect(world.events).toContain('Normal SavepointDeleted');
    });

    it('after a failed periodic savepoint waits 5 s, doubling, before the next attempt', async () => {
      const world = setup({ ...fraudSpec(), savepoints: { interval: '1m' } });
      await world.settle();
      for (const [, runtime] of world.control.runtimes()) runtime.savepointFailure = 'the bucket does not exist';
      let result = await world.step();
      while (world.control.requests.length === 0) result = await world.step();
      expect(result.requeueAfterMs).toBeGreaterThanOrEqual(5_000);
      expect(result.requeueAfterMs).toBeLessThanOrEqual(6_000);
      result = await world.step();
      expect(world.control.requests).toHaveLength(4);
      expect(result.requeueAfterMs).toBeGreaterThanOrEqual(10_000);
      expect(result.requeueAfterMs).toBeLessThanOrEqual(12_000);
      expect(condition(await world.read(), 'Savepoint')?.message).toMatch(/Sluice tries again in 1\ds$/);
    });
  });
  describe('the autoscaler loop', () => {
    /** Each pod reads two partitions with a backlog and works through 10 000 records a second of it. */
    async function behind(mode: 'apply' | 'recommend') {
      const world = setup({ ...fraudSpec(), autoscaler: { mode, max: 4, catchUpTime: '10s', targetUtilization: 0.5, stabilizationWindow: '4s' } });
      await world.settle();
      for (const [, runtime] of world.control.runtimes()) runtime.lags = [100_000, 100_000];
      const work = (): void => {
        for (const [, runtime] of world.control.runtimes()) {
          runtime.recordsIn += 20_000;
          runtime.lags = runtime.lags.map((lag) => Math.max(0, lag - 10_000));
        }
      };
      return { world, work };
    }

    it('in mode recommend writes the parallelism that drains the lag within catchUpTime, bounded by the partitions, and changes nothing', async () => {
      const { world, work } = await behind('recommend');
      for (let count = 0; count < 6; count++) {
        await world.step();
        work();
      }
      const job = await world.read();
      expect(job.status?.autoscaler).toMatchObject({ recommendedParallelism: 4, processingRate: 10_000 });
      expect(job.status?.autoscaler?.reason).toMatch(
        /one pod processes 10000\/s and is planned at 50%: 4 pods \(\d+ wanted, bounded to 1\.\.4, the source partitions\)/,
      );
      expect(world.cluster.changes.filter((change) => change.startsWith('scale'))).toEqual([]);
    });

    it('in mode apply rescales through the scale subresource once the recommendation held for stabilizationWindow', async () => {
      const { world, work } = await behind('apply');
      // What status said when spec.parallelism changed: anyone who sees the new parallelism finds the decision behind it.
      const statusAtScale: unknown[] = [];
      const scale = world.cluster.scale.bind(world.cluster);
      world.cluster.scale = async (job, parallelism) => {
        statusAtScale.push((await world.read()).status?.autoscaler);
        return scale(job, parallelism);
      };
      for (let count = 0; count < 20 && !world.cluster.changes.includes('scale 4'); count++) {
        await world.step();
        work();
      }
      expect(statusAtScale).toHaveLength(1);
      expect(statusAtScale[0]).toMatchObject({ recommendedParallelism: 4, samples: [] });
      expect(typeof (statusAtScale[0] as { lastScaleTime?: unknown }).lastScaleTime).toBe('string');
      let job = await world.read();
      expect(job.spec.parallelism).toBe(4);
      expect(job.status?.autoscaler?.lastScaleTime).toBeDefined();
      expect(world.events.at(-1)).toBe('Normal Autoscaled');
      job = await world.settle();
      expect(job.status).toMatchObject({ parallelism: 4, lastSavepoint: { trigger: 'rescale', parallelism: 2 } });
    });

    it('keeps its samples and since when its recommendation stands in status, so a new leader rescales when the old one would have', async () => {
      /** When the job was rescaled to 4, with a new controller taking over after `restartAfter` looks (or none). */
      const rescaledAt = async (restartAfter: number | undefined): Promise<string | undefined> => {
        const { world, work } = await behind('apply');
        for (let count = 0; count < 20 && !world.cluster.changes.includes('scale 4'); count++) {
          if (count === restartAfter) {
            const held = (await world.read()).status?.autoscaler;
            expect(held?.samples?.length).toBeGreaterThanOrEqual(2);
            expect(held?.recommendedParallelism).toBe(4);
            expect(held?.recommendedSince).toBeDefined();
            world.restartController();
          }
          await world.step();
          work();
        }
        return (await world.read()).status?.autoscaler?.lastScaleTime;
      };
      const uninterrupted = await rescaledAt(undefined);
      expect(uninterrupted).toBeDefined();
      expect(await rescaledAt(3)).toBe(uninterrupted);
    });

    it('keeps at most 16 samples in status however often the job is looked at', async () => {
      const { world, work } = await behind('recommend');
      for (let count = 0; count < 40; count++) {
        await world.reconcile();
        world.clock.advance(500);
        work();
      }
      expect((await world.read()).status?.autoscaler?.samples).toHaveLength(16);
    });
  });
});
