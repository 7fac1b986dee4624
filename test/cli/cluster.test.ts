// streamctl's kubectl habits against the real API server: get (table, -o wide|name|json|jsonpath, -A), --context,
// describe (spec, status, conditions, pods, savepoints, Events), logs of a job without running pods, and a refusal
// of the API server reported once per field; shell completion of job names. Status is written to the status subresource as the controller writes it.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { StreamJob } from '@sluice/crds';
import { parse } from 'yaml';
import { describe as describeJob, get, logs, scale, type GetArgs } from '../../cli/src/index.js';
import { buildCli, root } from './cli.js';
import { capture, createJob, kubeconfigFile, patchStatus, prepareNamespace, randomName, removeNamespace } from '../e2e/streamctl/harness.js';

const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(kubeconfigFile);
const core = kubeconfig.makeApiClient(CoreV1Api);

let namespace: string;
let running: StreamJob;
let fresh: StreamJob;

const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');

beforeAll(async () => {
  namespace = await prepareNamespace('streamctl-get');
  running = await createJob(namespace, 'alpha');
  fresh = await createJob(namespace, 'beta');
  await patchStatus(namespace, running.metadata.name!, {
    observedGeneration: 1,
    phase: 'Running',
    parallelism: 2,
    lag: 420,
    watermark: minutesAgo(2),
    lastSavepoint: { location: 's3://savepoints/alpha/sp-1', timestamp: minutesAgo(10), trigger: 'periodic', parallelism: 2, generation: 1 },
    savepoints: [{ location: 's3://savepoints/alpha/sp-1', timestamp: minutesAgo(10), trigger: 'periodic', parallelism: 2, generation: 1 }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'all 2 pods ready', lastTransitionTime: minutesAgo(5), observedGeneration: 1 }],
  });
});

const scratchFiles: string[] = [];

afterAll(async () => {
  await removeNamespace(namespace);
  for (const file of scratchFiles) rmSync(file, { force: true });
});

const flags = (more: Partial<GetArgs> = {}): GetArgs => ({ kubeconfig: kubeconfigFile, namespace, 'all-namespaces': false, output: 'table', ...more });

async function run(more: Partial<GetArgs>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const code = await get(flags(more), out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

describe('streamctl get', () => {
  it("lists the namespace's jobs as kubectl get streamjobs does, with lag, watermark and last savepoint", async () => {
    const { code, stdout } = await run({});
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'PHASE', 'PARALLELISM', 'LAG', 'WATERMARK', 'LAST-SAVEPOINT', 'AGE']);
    expect(rows.map((row) => row.split(/\s{2,}/).slice(0, 6))).toEqual([
      [running.metadata.name, 'Running', '2', '420', '2m ago', '10m ago'],
      [fresh.metadata.name, '-', '-', '-', '-', '-'],
    ]);
  });

  it('-o wide adds the spec parallelism, the upgrade and the Ready reason; -o name prints kind/name', async () => {
    const wide = await run({ output: 'wide' });
    expect(
      wide.stdout
        .split('\n')[0]!
        .split(/\s{2,}/)
        .slice(-3),
    ).toEqual(['DESIRED', 'UPGRADE', 'READY']);
    expect(
      wide.stdout
        .split('\n')[1]!
        .split(/\s{2,}/)
        .slice(-3),
    ).toEqual(['1', '-', 'Running']);
    const names = await run({ output: 'name' });
    expect(names.stdout).toBe(`streamjob.sluice.dev/${running.metadata.name}\nstreamjob.sluice.dev/${fresh.metadata.name}\n`);
  });

  it('-o json prints a List, one job prints itself, and -o jsonpath reads fields as kubectl does', async () => {
    const list = parse((await run({ output: 'json' })).stdout) as { kind: string; items: StreamJob[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((job) => job.metadata.name)).toEqual([running.metadata.name, fresh.metadata.name]);
    const one = parse((await run({ job: running.metadata.name!, output: 'yaml' })).stdout) as StreamJob;
    expect(one.status?.lag).toBe(420);
    expect((await run({ output: 'jsonpath={.items[*].metadata.name}' })).stdout).toBe(`${running.metadata.name} ${fresh.metadata.name}`);
    expect((await run({ job: running.metadata.name!, output: 'jsonpath={.status.phase}{"\\n"}' })).stdout).toBe('Running\n');
    expect((await run({ job: running.metadata.name!, output: "jsonpath={.metadata.labels['none']}" })).stdout).toBe('');
  });

  it('-A lists every namespace with a NAMESPACE column', async () => {
    const { stdout } = await run({ 'all-namespaces': true, namespace: randomName('elsewhere') });
    expect(
      stdout
        .split('\n')[0]!
        .split(/\s{2,}/)
        .slice(0, 3),
    ).toEqual(['NAMESPACE', 'NAME', 'PHASE']);
    expect(stdout).toMatch(new RegExp(`^${namespace}\\s+${running.metadata.name}\\s+Running`, 'm'));
  });

  it('says when a namespace has no jobs, and names a job that does not exist', async () => {
    const nowhere = randomName('empty');
    const empty = await run({ namespace: nowhere });
    expect(empty).toEqual({ code: 0, stdout: '', stderr: `No StreamJobs found in namespace "${nowhere}".\n` });
    const missing = await run({ job: 'nope' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `streamctl get: streamjob "nope" not found in namespace "${namespace}": list jobs with kubectl get streamjobs -n ${namespace}\n`,
    );
  });
});

describe('--context', () => {
  it('uses the named kubeconfig context and its namespace, and names the contexts there are when it is not one', async () => {
    const config = parse(kubeconfig.exportConfig()) as { contexts: { name: string; context: Record<string, string> }[] };
    const current = config.contexts.find((context) => context.name === kubeconfig.getCurrentContext())!;
    config.contexts.push({ name: 'team', context: { ...current.context, namespace } });
    const file = join(tmpdir(), `${randomName('kubeconfig')}.json`);
    writeFileSync(file, JSON.stringify(config));
    scratchFiles.push(file);
    const out = capture();
    expect(await get({ kubeconfig: file, context: 'team', 'all-namespaces': false, output: 'name' }, out.io)).toBe(0);
    expect(out.stdout()).toContain(`streamjob.sluice.dev/${running.metadata.name}`);
    const wrong = capture();
    expect(await get({ kubeconfig: file, context: 'nope', 'all-namespaces': false, output: 'name' }, wrong.io)).toBe(1);
    expect(wrong.stderr()).toBe(
      `streamctl get: --context nope is not in the kubeconfig (it has ${current.name}, team); kubectl config get-contexts lists them\n`,
    );
  });
});

describe('streamctl describe', () => {
  it('shows the spec, the status and conditions, the pods, the savepoints and the recent Events', async () => {
    const name = running.metadata.name!;
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: `${name}-0`, labels: { 'sluice.dev/job': name } }, spec: { containers: [{ name: 'runtime', image: 'sluice/runtime:test' }] } },
    });
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${name}.test-event` },
        involvedObject: { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', namespace, name },
        type: 'Normal',
        reason: 'SavepointTaken',
        message: 'savepoint sp-1 is durable',
        lastTimestamp: new Date(Date.now() - 60_000),
        count: 1,
      },
    });
    const out = capture();
    expect(await describeJob({ kubeconfig: kubeconfigFile, namespace, job: name }, out.io)).toBe(0);
    const text = out.stdout();
    expect(text).toMatch(/^Sources: +transactions: kafka topic transactions, event time from timestamp$/m);
    expect(text).toMatch(/^Pipeline: +keyBy customer_id → window tumbling 5m \(txn_count, txn_sum\)$/m);
    expect(text).toMatch(/^Phase: +Running$/m);
    expect(text).toMatch(/^Ready +True +Running +\S+ +all 2 pods ready$/m);
    expect(text).toMatch(new RegExp(`^Pods:\\nNAME +READY +STATUS +RESTARTS +AGE +NODE\\n${name}-0 +0/1 +Pending +0 `, 'm'));
    expect(text).toMatch(/^Savepoints:\nLOCATION.*\ns3:\/\/savepoints\/alpha\/sp-1 /m);
    expect(text).toMatch(/^Events:\nTYPE +REASON +AGE +MESSAGE\nNormal +SavepointTaken +\d+s +savepoint sp-1 is durable$/m);
  });
});

describe('streamctl logs', () => {
  it('says a job has no pods rather than printing nothing', async () => {
    const out = capture();
    expect(await logs({ kubeconfig: kubeconfigFile, namespace, job: fresh.metadata.name!, follow: false, previous: false }, out.io)).toBe(1);
    expect(out.stderr()).toBe(
      `streamctl logs: streamjob "${fresh.metadata.name}" has no pods (its phase is not reported yet); streamctl describe ${fresh.metadata.name} says why\n`,
    );
  });
});

describe('a refusal of the API server', () => {
  it('is reported once, by field', async () => {
    const out = capture();
    const code = await scale(
      { kubeconfig: kubeconfigFile, namespace, job: fresh.metadata.name!, parallelism: '5000', output: 'table', wait: false, timeout: '1m' },
      out.io,
    );
    expect(code).toBe(1);
    expect(out.stderr()).toBe(
      'streamctl scale: the API server refused: spec.parallelism: Invalid value: 5000: spec.parallelism in body should be less than or equal to 1024\n',
    );
  });
});

describe('shell completion of job names', () => {
  /** What `kubectl sluice <words><Tab>` offers (kubectl_complete-sluice, the last word being completed), then the directive. */
  function complete(...words: string[]): string[] {
    const ran = spawnSync(process.execPath, [join(root, 'cli/bin/kubectl_complete-sluice.js'), ...words], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: kubeconfigFile },
    });
    expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
    return ran.stdout.split('\n').filter((line) => line !== '');
  }

  beforeAll(() => buildCli());

  it("offers the namespace's jobs where a job is named, those starting with what is typed, and never file names there", () => {
    const names = [running.metadata.name!, fresh.metadata.name!].sort();
    expect(complete('describe', '-n', namespace, '')).toEqual([...names, ':4']);
    expect(complete('status', '--namespace', namespace, running.metadata.name!.slice(0, 3))).toEqual([
      ...names.filter((name) => name.startsWith(running.metadata.name!.slice(0, 3))),
      ':4',
    ]);
    expect(complete('logs', '-n', namespace, 'no-such-job')).toEqual([':4']);
    // Not where the job is already named, nor for flags.
    expect(complete('scale', '-n', namespace, running.metadata.name!, '')).toEqual([':0']);
    expect(complete('describe', '-n', namespace, '--')).toEqual(expect.arrayContaining(['--context', '--kubeconfig', ':4']));
  });
});
