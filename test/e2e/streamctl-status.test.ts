// streamctl status and savepoints against the real API server: the status the controller would write, read back as a
// table for people and as the status object in JSON and YAML.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StreamJobStatus } from '@sluice/crds';
import { parse } from 'yaml';
import { savepoints, status, type JobArgs } from '../../cli/src/index.js';
import { capture, createJob, kubeconfigFile, patchSpec, patchStatus, prepareNamespace, removeNamespace } from './streamctl/harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let namespace: string;

beforeAll(async () => {
  namespace = await prepareNamespace('streamctl-status');
});

afterAll(async () => {
  await removeNamespace(namespace);
});

const flags = (job: string, output: JobArgs['output'] = 'table'): JobArgs => ({ job, output, kubeconfig: kubeconfigFile, namespace });

const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');

/** What the controller writes for a job that runs two pods and is rescaling to three. */
function upgradingStatus(generation: number): StreamJobStatus {
  const older = { location: 's3://savepoints/fraud/sp-1', timestamp: minutesAgo(30), trigger: 'periodic', parallelism: 2, generation: 1 } as const;
  const newer = {
    location: 's3://savepoints/fraud/sp-2',
    timestamp: minutesAgo(3),
    trigger: 'manual',
    triggerNonce: 'n-1',
    parallelism: 2,
    generation: 1,
  } as const;
  return {
    observedGeneration: generation,
    phase: 'Upgrading',
    parallelism: 2,
    lag: 1234,
    watermark: minutesAgo(1),
    lastSavepoint: newer,
    // Oldest first on purpose: streamctl savepoints lists newest first whatever order status holds.
    savepoints: [older, newer],
    upgrade: {
      state: 'Savepointing',
      mode: 'savepoint',
      reason: 'Rescale',
      fromGeneration: 1,
      targetGeneration: generation,
      targetParallelism: 3,
      savepointId: 'up-7',
      startedAt: minutesAgo(0),
    },
    pendingSavepoint: { trigger: 'rescale', id: 'up-7', requestedAt: minutesAgo(0) },
    autoscaler: { recommendedParallelism: 3, processingRate: 5000, reason: 'lag 1234 drains in 5m with 3 pods at 70% utilization' },
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Upgrading',
        message: 'rescaling from 2 to 3 pods',
        lastTransitionTime: minutesAgo(0),
        observedGeneration: generation,
      },
      {
        type: 'Savepoint',
        status: 'True',
        reason: 'SavepointTaken',
        message: 'savepoint sp-2 is durable',
        lastTransitionTime: minutesAgo(3),
        observedGeneration: 1,
      },
    ],
  };
}

describe('streamctl status', () => {
  it('says there is no status yet for a job the controller has not seen', async () => {
    const job = await createJob(namespace);
    const out = capture();
    expect(await status(flags(job.metadata.name!), out.io)).toBe(0);
    expect(out.stdout()).toContain('Phase:              unknown: no status yet (is the Sluice controller running?)');
    expect(out.stdout()).toContain('Parallelism:        - running, 1 in spec');
    expect(out.stdout()).toContain('Conditions: none yet');
    expect(out.stderr()).toBe('');
  });

  it('prints phase, parallelism, lag, watermark, savepoints, the upgrade and the conditions as a table', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, upgradingStatus(job.metadata.generation!));
    const out = capture();
    expect(await status(flags(name), out.io)).toBe(0);
    const text = out.stdout();
    expect(text).toContain(`StreamJob:          ${name} (namespace ${namespace})`);
    expect(text).toContain('Phase:              Upgrading');
    expect(text).toContain('Parallelism:        2 running, 1 in spec');
    expect(text).toContain('Lag:                1234 records');
    expect(text).toMatch(/Watermark: +\S+Z \(\d+s ago\)/);
    expect(text).toContain('Last savepoint:     s3://savepoints/fraud/sp-2\n                    taken ');
    expect(text).toContain('(3m ago), trigger manual');
    expect(text).toMatch(new RegExp(`Upgrade: +Savepointing, reason Rescale, from generation 1 to generation ${job.metadata.generation}, started \\d+s ago`));
    expect(text).toMatch(/Pending savepoint: +rescale, requested \S+ \(\d+s ago\), id up-7/);
    expect(text).toContain('Autoscaler:         recommends 3 pod(s): lag 1234 drains in 5m with 3 pods at 70% utilization\n');
    expect(text).toContain(`Generation:         observed ${job.metadata.generation} of ${job.metadata.generation}\n`);
    expect(text).toMatch(
      /TYPE +STATUS +REASON +AGE +MESSAGE\nReady +False +Upgrading +\d+s +rescaling from 2 to 3 pods\nSavepoint +True +SavepointTaken +3m +savepoint sp-2 is durable\n/,
    );
  });

  it('prints the status object itself with -o json and -o yaml', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const written = upgradingStatus(job.metadata.generation!);
    await patchStatus(namespace, name, written);
    const json = capture();
    expect(await status(flags(name, 'json'), json.io)).toBe(0);
    expect(JSON.parse(json.stdout())).toEqual(written);
    const yaml = capture();
    expect(await status(flags(name, 'yaml'), yaml.io)).toBe(0);
    expect(parse(yaml.stdout())).toEqual(written);
  });

  it('says when the controller has not acted on the latest spec', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, { observedGeneration: job.metadata.generation!, phase: 'Running', parallelism: 1 });
    await patchSpec(namespace, name, { parallelism: 2 });
    const out = capture();
    expect(await status(flags(name), out.io)).toBe(0);
    expect(out.stdout()).toContain(
      `observed ${job.metadata.generation} of ${job.metadata.generation! + 1} (the controller has not acted on the latest spec yet)`,
    );
  });

  it('names the missing job and how to list the jobs there, and exits 1', async () => {
    const out = capture();
    expect(await status(flags('no-such-job'), out.io)).toBe(1);
    expect(out.stderr()).toBe(
      `streamctl status: streamjob "no-such-job" not found in namespace "${namespace}": list jobs with kubectl get streamjobs -n ${namespace}\n`,
    );
    expect(out.stdout()).toBe('');
  });

  it('runs as a command line, printing the status as JSON', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, { phase: 'Running', parallelism: 1, lag: 0 });
    const streamctl = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'cli/src/main.ts', 'status', name, '--kubeconfig', kubeconfigFile, '-n', namespace, '-o', 'json'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(streamctl.stderr).toBe('');
    expect(streamctl.status).toBe(0);
    expect(JSON.parse(streamctl.stdout)).toEqual({ phase: 'Running', parallelism: 1, lag: 0 });
  });
});

describe('streamctl savepoints', () => {
  it('lists the kept savepoints newest first: location, time, trigger, parallelism, generation', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    await patchStatus(namespace, name, upgradingStatus(job.metadata.generation!));
    const out = capture();
    expect(await savepoints(flags(name), out.io)).toBe(0);
    const lines = out.stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^LOCATION +TIME +TRIGGER +PARALLELISM +GENERATION$/);
    expect(lines[1]).toMatch(/^s3:\/\/savepoints\/fraud\/sp-2 +\S+Z \(3m ago\) +manual +2 +1$/);
    expect(lines[2]).toMatch(/^s3:\/\/savepoints\/fraud\/sp-1 +\S+Z \(30m ago\) +periodic +2 +1$/);
    const json = capture();
    expect(await savepoints(flags(name, 'json'), json.io)).toBe(0);
    expect((JSON.parse(json.stdout()) as { location: string }[]).map((savepoint) => savepoint.location)).toEqual([
      's3://savepoints/fraud/sp-2',
      's3://savepoints/fraud/sp-1',
    ]);
  });

  it('says how to take one when there are none', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    expect(await savepoints(flags(name), out.io)).toBe(0);
    expect(out.stdout()).toBe(`streamjob "${name}" has no savepoints yet; take one with streamctl savepoint ${name} -n ${namespace} --wait\n`);
  });
});
