// streamctl suspend, resume and scale against the real API server: the spec change each makes, and --wait answered by
// status the test writes where the controller would (an upgrade in progress, then the phase it ends in, or a failure).
import { resume, scale, suspend, type ResumeArgs, type ScaleArgs, type SuspendArgs } from '../../cli/src/index.js';
import {
  capture,
  createJob,
  kubeconfigFile,
  patchSpec,
  patchStatus,
  prepareNamespace,
  printed,
  readJob,
  removeNamespace,
  specChanged,
} from './streamctl/harness.js';

let namespace: string;

beforeAll(async () => {
  namespace = await prepareNamespace('streamctl-lifecycle');
});

afterAll(async () => {
  await removeNamespace(namespace);
});

const flags = (job: string, more: Partial<SuspendArgs> = {}): SuspendArgs & ResumeArgs => ({
  job,
  output: 'table',
  kubeconfig: kubeconfigFile,
  namespace,
  wait: true,
  timeout: '5m',
  ...more,
});

const scaleFlags = (job: string, parallelism: string, more: Partial<ScaleArgs> = {}): ScaleArgs => ({ ...flags(job), parallelism, ...more });

const now = (): string => new Date().toISOString();

describe('streamctl suspend and resume', () => {
  it('suspend --wait sets spec.suspend and waits through the upgrade until the job is Suspended', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, { observedGeneration: job.metadata.generation!, phase: 'Running', parallelism: 1 });
    const out = capture();
    const command = suspend(flags(name), out.io);
    const { metadata } = await specChanged(namespace, name, 'spec.suspend to be true', (seen) => seen.spec.suspend === true);
    const generation = metadata.generation!;
    await printed(out, `phase Running, 1 pod(s), the controller has not seen the latest spec yet`);
    await patchStatus(namespace, name, {
      observedGeneration: generation,
      phase: 'Upgrading',
      upgrade: { state: 'Savepointing', reason: 'Suspend', fromGeneration: generation - 1, targetGeneration: generation, startedAt: now() },
    });
    await printed(out, `waiting for streamjob "${name}" to reach phase Suspended: phase Upgrading (Savepointing, Suspend), 1 pod(s)`);
    await patchStatus(namespace, name, { phase: 'Suspended', parallelism: 0, upgrade: null });
    expect(await command).toBe(0);
    expect(out.stdout()).toBe(`streamjob "${name}": suspend requested (generation ${generation})\nstreamjob "${name}": phase Suspended, 0 pod(s)\n`);
  });

  it('resume --wait sets spec.suspend false and waits until the job is Running', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, { observedGeneration: job.metadata.generation!, phase: 'Suspended', parallelism: 0 });
    const out = capture();
    const command = resume(flags(name, { output: 'json' }), out.io);
    const { metadata } = await specChanged(namespace, name, 'spec.suspend to be false', (seen) => seen.spec.suspend === false);
    await printed(out, 'phase Suspended');
    await patchStatus(namespace, name, { observedGeneration: metadata.generation!, phase: 'Running', parallelism: 1 });
    expect(await command).toBe(0);
    expect(JSON.parse(out.stdout())).toEqual({ observedGeneration: metadata.generation, phase: 'Running', parallelism: 1 });
  });

  it('without --wait, only asks, and says how to follow', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    expect(await suspend(flags(name, { wait: false }), out.io)).toBe(0);
    expect((await readJob(namespace, name)).spec.suspend).toBe(true);
    expect(out.stdout()).toBe(
      `streamjob "${name}": suspend requested (generation 2)\nfollow it with streamctl status ${name} -n ${namespace}, or pass --wait\n`,
    );
  });

  it('ends the wait with the reason when the job fails at the new generation', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    const command = resume(flags(name), out.io);
    const { metadata } = await specChanged(namespace, name, 'spec.suspend to be false', (seen) => seen.spec.suspend === false);
    await printed(out, 'no status yet (is the Sluice controller running?)');
    const ready = {
      type: 'Ready',
      status: 'False',
      reason: 'InvalidSpec',
      message: 'spec.sinks[0]: the Redis sink needs spec.connections.redis.url',
      lastTransitionTime: now(),
    } as const;
    await patchStatus(namespace, name, { observedGeneration: metadata.generation!, phase: 'Failed', conditions: [ready] });
    expect(await command).toBe(1);
    expect(out.stderr()).toContain(`streamctl resume: streamjob "${name}" failed: spec.sinks[0]: the Redis sink needs spec.connections.redis.url\n`);
  });
});

describe('streamctl scale', () => {
  it.each([
    ['-1', 'parallelism -1 is negative; give the number of pods, 1 or more'],
    ['2.5', 'parallelism "2.5" is not a whole number; give the number of pods, such as 3'],
    ['three', 'parallelism "three" is not a whole number; give the number of pods, such as 3'],
  ])('refuses %s without touching the job', async (parallelism, message) => {
    const job = await createJob(namespace);
    const out = capture();
    expect(await scale(scaleFlags(job.metadata.name!, parallelism), out.io)).toBe(1);
    expect(out.stderr()).toBe(`streamctl scale: ${message}\n`);
    expect((await readJob(namespace, job.metadata.name!)).metadata.generation).toBe(job.metadata.generation);
  });

  it('refuses 0 and points at suspend', async () => {
    const job = await createJob(namespace);
    const out = capture();
    expect(await scale(scaleFlags(job.metadata.name!, '0'), out.io)).toBe(1);
    expect(out.stderr()).toBe(
      `streamctl scale: parallelism 0 is not allowed (spec.parallelism is at least 1); to stop the job's pods, run streamctl suspend ${job.metadata.name}\n`,
    );
  });

  it('sets spec.parallelism through the scale subresource and --wait waits for that many pods Running', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, { observedGeneration: job.metadata.generation!, phase: 'Running', parallelism: 1 });
    const out = capture();
    const command = scale(scaleFlags(name, '3'), out.io);
    const { metadata } = await specChanged(namespace, name, 'spec.parallelism to be 3', (seen) => seen.spec.parallelism === 3);
    const generation = metadata.generation!;
    // Running at the new generation, but on the old pods: not done yet.
    await patchStatus(namespace, name, { observedGeneration: generation, phase: 'Running', parallelism: 1 });
    await printed(out, 'phase Running, 1 pod(s)');
    await patchStatus(namespace, name, {
      phase: 'Upgrading',
      upgrade: { state: 'Deploying', reason: 'Rescale', targetGeneration: generation, targetParallelism: 3 },
    });
    await printed(out, 'phase Upgrading (Deploying, Rescale), 1 pod(s)');
    await patchStatus(namespace, name, { phase: 'Running', parallelism: 3, upgrade: null });
    expect(await command).toBe(0);
    expect(out.stdout()).toBe(`streamjob "${name}": parallelism 3 requested (generation ${generation})\nstreamjob "${name}": phase Running, 3 pod(s)\n`);
  });

  it('ends the wait when the controller rolls the rescale back', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    const command = scale(scaleFlags(name, '2'), out.io);
    const { metadata } = await specChanged(namespace, name, 'spec.parallelism to be 2', (seen) => seen.spec.parallelism === 2);
    const generation = metadata.generation!;
    await printed(out, 'no status yet');
    const upgrade = {
      type: 'Upgrade',
      status: 'False',
      reason: 'RolledBack',
      message: 'pods not ready within 5m; running generation 1 again',
      lastTransitionTime: now(),
    } as const;
    await patchStatus(namespace, name, {
      observedGeneration: generation,
      phase: 'Running',
      parallelism: 1,
      rolledBackGeneration: generation,
      conditions: [upgrade],
    });
    expect(await command).toBe(1);
    expect(out.stderr()).toContain(
      `streamctl scale: the controller rolled generation ${generation} back to the last stable spec: pods not ready within 5m; running generation 1 again\n`,
    );
  });

  it('does not wait for a suspended job, which takes the new parallelism when resumed', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchSpec(namespace, name, { suspend: true });
    const out = capture();
    expect(await scale(scaleFlags(name, '4'), out.io)).toBe(0);
    expect((await readJob(namespace, name)).spec.parallelism).toBe(4);
    expect(out.stderr()).toBe(`not waiting: streamjob "${name}" is suspended; it runs 4 pod(s) once resumed (streamctl resume ${name} --wait)\n`);
  });

  it('reports the API server refusing a parallelism above its maximum', async () => {
    const job = await createJob(namespace);
    const out = capture();
    expect(await scale(scaleFlags(job.metadata.name!, '5000', { wait: false }), out.io)).toBe(1);
    expect(out.stderr()).toMatch(/^streamctl scale: the API server refused: .*spec\.parallelism.*1024/);
  });
});
