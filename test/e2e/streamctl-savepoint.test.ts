// streamctl savepoint against the real API server: the trigger it writes into the spec, and --wait answered by status
// the test writes where the controller would — a durable savepoint, a SavepointFailed condition, or nothing until the timeout.
import type { StreamJob } from '@sluice/crds';
import { savepoint, type SavepointArgs } from '../../cli/src/index.js';
import { capture, createJob, kubeconfigFile, patchStatus, prepareNamespace, printed, readJob, removeNamespace, specChanged } from './streamctl/harness.js';

let namespace: string;

beforeAll(async () => {
  namespace = await prepareNamespace('streamctl-savepoint');
});

afterAll(async () => {
  await removeNamespace(namespace);
});

const flags = (job: string, more: Partial<SavepointArgs> = {}): SavepointArgs => ({
  job,
  output: 'table',
  kubeconfig: kubeconfigFile,
  namespace,
  wait: true,
  timeout: '5m',
  ...more,
});

/** The job once the command's trigger is in its spec. */
const triggered = (job: StreamJob): Promise<StreamJob> =>
  specChanged(namespace, job.metadata.name!, 'spec.savepointTrigger to be set', (seen) => seen.spec.savepointTrigger !== undefined);

const now = (): string => new Date().toISOString();

describe('streamctl savepoint', () => {
  it('sets spec.savepointTrigger to a new timestamped nonce and, without --wait, says how to follow it', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    expect(await savepoint(flags(name, { wait: false }), out.io)).toBe(0);
    const { spec } = await triggered(job);
    expect(spec.savepointTrigger).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-[0-9a-f]{6}$/);
    expect(out.stdout()).toBe(
      `savepoint requested for streamjob "${name}" (spec.savepointTrigger ${spec.savepointTrigger}); follow it with streamctl savepoints ${name} -n ${namespace}, or pass --wait\n`,
    );
    const again = capture();
    expect(await savepoint(flags(name, { wait: false, output: 'json' }), again.io)).toBe(0);
    const second = JSON.parse(again.stdout()) as { savepointTrigger: string };
    expect(second.savepointTrigger).not.toBe(spec.savepointTrigger);
  });

  it('with --wait, shows the pending savepoint, then prints the location once status answers the trigger', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    const command = savepoint(flags(name), out.io);
    const nonce = (await triggered(job)).spec.savepointTrigger!;
    await printed(out, 'the controller has not picked the request up yet');
    await patchStatus(namespace, name, { pendingSavepoint: { trigger: 'manual', triggerNonce: nonce, id: 'sp-42', requestedAt: now() } });
    await printed(out, `waiting for the savepoint of streamjob "${name}": savepoint sp-42 in progress since`);
    const taken = { location: 's3://savepoints/fraud/sp-42', timestamp: now(), trigger: 'manual', triggerNonce: nonce, parallelism: 1, generation: 2 } as const;
    await patchStatus(namespace, name, { pendingSavepoint: null, savepointTriggerNonce: nonce, lastSavepoint: taken, savepoints: [taken] });
    expect(await command).toBe(0);
    expect(out.stdout()).toBe('savepoint taken: s3://savepoints/fraud/sp-42\n');
    // Not a terminal: progress comes as plain lines, one for each state seen.
    expect(out.stderr().split('\n')[0]).toBe(`savepoint requested for streamjob "${name}" (spec.savepointTrigger ${nonce})`);
    expect(out.stderr()).not.toContain('\r');
  });

  it('with --wait -o json, prints the savepoint record', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    const command = savepoint(flags(name, { output: 'json' }), out.io);
    const nonce = (await triggered(job)).spec.savepointTrigger!;
    const taken = {
      location: 's3://savepoints/fraud/sp-43',
      timestamp: '2026-11-27T16:00:00Z',
      trigger: 'manual',
      triggerNonce: nonce,
      parallelism: 1,
      generation: 2,
    } as const;
    await patchStatus(namespace, name, { savepointTriggerNonce: nonce, lastSavepoint: taken });
    expect(await command).toBe(0);
    expect(JSON.parse(out.stdout())).toEqual(taken);
  });

  it('with --wait, exits 1 with the runtime message when the Savepoint condition says SavepointFailed', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    // A terminal: the progress line is rewritten in place and cleared at the end.
    const out = capture(true);
    const command = savepoint(flags(name), out.io);
    const { spec, metadata } = await triggered(job);
    await printed(out, 'the controller has not picked the request up yet');
    const failed = {
      type: 'Savepoint',
      status: 'False',
      reason: 'SavepointFailed',
      message: 'pod 1: S3 refused the write (AccessDenied)',
      lastTransitionTime: now(),
      observedGeneration: metadata.generation!,
    } as const;
    await patchStatus(namespace, name, { savepointTriggerNonce: spec.savepointTrigger!, conditions: [failed] });
    expect(await command).toBe(1);
    expect(out.stdout()).toBe('');
    expect(out.stderr()).toContain('\r\x1b[2Kwaiting for the savepoint of streamjob');
    expect(out.stderr().endsWith('\r\x1b[2Kstreamctl savepoint: the savepoint failed: pod 1: S3 refused the write (AccessDenied)\n')).toBe(true);
  });

  it('does not take an older failure for the answer to a new request', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const old = {
      type: 'Savepoint',
      status: 'False',
      reason: 'SavepointFailed',
      message: 'an earlier failure',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: job.metadata.generation!,
    } as const;
    await patchStatus(namespace, name, { conditions: [old] });
    const out = capture();
    const command = savepoint(flags(name), out.io);
    const nonce = (await triggered(job)).spec.savepointTrigger!;
    await printed(out, 'the controller has not picked the request up yet');
    const taken = { location: 's3://savepoints/fraud/sp-44', timestamp: now(), trigger: 'manual', triggerNonce: nonce } as const;
    await patchStatus(namespace, name, { savepointTriggerNonce: nonce, lastSavepoint: taken });
    expect(await command).toBe(0);
    expect(out.stdout()).toBe('savepoint taken: s3://savepoints/fraud/sp-44\n');
  });

  it('gives up after --timeout, saying what it waited for and what it last saw', async () => {
    const job = await createJob(namespace);
    const name = job.metadata.name!;
    const out = capture();
    expect(await savepoint(flags(name, { timeout: '1s' }), out.io)).toBe(1);
    expect(out.stderr()).toContain(
      `streamctl savepoint: timed out after 1s waiting for the savepoint of streamjob "${name}" (last seen: the controller has not picked the request up yet); see kubectl describe streamjob ${name} -n ${namespace}`,
    );
  });

  it('refuses a --timeout that is not a duration before changing anything', async () => {
    const job = await createJob(namespace);
    const out = capture();
    expect(await savepoint(flags(job.metadata.name!, { timeout: 'soon' }), out.io)).toBe(1);
    expect(out.stderr()).toBe('streamctl savepoint: --timeout "soon" is not a duration such as 90s or 10m\n');
    expect((await readJob(namespace, job.metadata.name!)).spec.savepointTrigger).toBeUndefined();
  });

  it('names the missing job and exits 1', async () => {
    const out = capture();
    expect(await savepoint(flags('no-such-job'), out.io)).toBe(1);
    expect(out.stderr()).toBe(
      `streamctl savepoint: streamjob "no-such-job" not found in namespace "${namespace}": list jobs with kubectl get streamjobs -n ${namespace}\n`,
    );
  });
});
