// helm install on the real node: the chart's controller as a pod (its ServiceAccount, RBAC and in-cluster config), the fraud-velocity example applied as the README says, then a savepoint upgrade, a rescale 2 → 3 and a kill -9 of a runtime process, with every window in Kafka (read_committed) exactly once and the feature store in Redis; streamctl logs of the pods.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { parseDocument } from 'yaml';
import { eventually } from '../env/src/eventually.js';
import { helm } from '../env/src/helm.js';
import { envPaths } from '../env/src/proc.js';
import { readRealNode, realNodeTools } from '../env/src/real-node.js';
import { kafka } from '../e2e/kafka/harness.js';
import {
  allResults,
  core,
  createBucket,
  described,
  endpoints,
  jobPods,
  readJob,
  readResults,
  TransactionFeed,
  uniqueName,
  waitForPhase,
} from '../e2e/stream-job/harness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const realNode = readRealNode(envPaths());
const { kubectl: kubectlBinary, crictl } = realNodeTools(envPaths());
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;

const namespace = uniqueName('real-node-helm');
const release = uniqueName('sluice');
const bucket = uniqueName('real-node-savepoints');
const job = 'fraud-velocity';
const exampleTopics = ['transactions', 'fraud-features', 'transactions-late', 'transactions-dead-letter'];
/** A Redis database of this test's own: the example's keys are global, and stream-job-example.test.ts writes them in database 0. */
const redisDatabase = 9;
const hostPort = (url: string): string => `${realNode.hostAddress}:${new URL(url).port}`;

async function kubectl(...args: string[]): Promise<string> {
  return kubectlWith(undefined, ...args);
}

/** Runs the cached kubectl on the test apiserver, as a user with an admin kubeconfig; `input` is its stdin. */
function kubectlWith(input: string | undefined, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlBinary,
      [`--kubeconfig=${endpoints.kube.kubeconfig}`, '--namespace', namespace, ...args],
      { cwd: root },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** The example names global Kafka topics: whatever an earlier run left in them goes first. */
async function deleteExampleTopics(): Promise<void> {
  const admin = kafka(endpoints.kafka.brokers).admin();
  await admin.connect();
  try {
    const present = (await admin.listTopics()).filter((topic) => exampleTopics.includes(topic));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
    await eventually(
      'the example topics gone from Kafka',
      async () => ((await admin.listTopics()).some((topic) => exampleTopics.includes(topic)) ? undefined : true),
      60_000,
      250,
    );
  } finally {
    await admin.disconnect();
  }
}

function onRealNode(pod: V1Pod): boolean {
  return pod.spec?.nodeName === realNode.node && pod.status?.containerStatuses?.every((status) => status.containerID?.startsWith('containerd://')) === true;
}

const feed = new TransactionFeed('transactions', 6);
const redis = new Redis(endpoints.redis.url, { lazyConnect: true, db: redisDatabase });

beforeAll(async () => {
  // The images of the tree under test, into the node's containerd (cached layers make this quick when nothing changed).
  await run('bash', [`${root}images/build.sh`, 'runtime', 'controller'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  await deleteExampleTopics();
  await createBucket(endpoints.s3, bucket);
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { [realNode.namespaceLabel.key]: realNode.namespaceLabel.value } } } });
  await redis.connect();
  await redis.del(...['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'].map((customer) => `fraud_features:${customer}:txn_count_5m`));
}, 1_800_000);

afterAll(async () => {
  await feed.close();
  redis.disconnect();
  // The job and its Topics first, while the controller still runs to take their finalizers off; the namespace would hang otherwise.
  await kubectl('delete', '--wait', '--timeout=120s', '--ignore-not-found', 'streamjobs.sluice.dev,topics.sluice.dev', '--all').catch(() => undefined);
  await helm(['uninstall', release, '--namespace', namespace, '--kubeconfig', endpoints.kube.kubeconfig, '--wait']).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await eventually(
    `namespace ${namespace} gone`,
    async () => ((await core.listNamespace()).items.some((found) => found.metadata?.name === namespace) ? undefined : true),
    120_000,
    500,
  ).catch(() => undefined);
}, 300_000);

describe('helm install on the real node', () => {
  it('runs the controller as a container with the chart’s ServiceAccount, from the image built here', async () => {
    await helm([
      'install',
      release,
      `${root}charts/sluice`,
      '--namespace',
      namespace,
      '--kubeconfig',
      endpoints.kube.kubeconfig,
      '--wait',
      '--timeout',
      '5m',
      '--set',
      `kafka.bootstrap=${realNode.kafkaBootstrap}`,
      '--set',
      'controller.image.repository=localhost/sluice-controller',
      '--set',
      'controller.image.pullPolicy=Never',
      '--set',
      `controller.runtimeImage=localhost/sluice-runtime:${version}`,
      '--set',
      `controller.snapshotLocation=s3://${bucket}`,
      '--set',
      `controller.redisUrl=redis://${hostPort(endpoints.redis.url)}/${redisDatabase}`,
      '--set',
      `controller.watchNamespaces={${namespace}}`,
    ]);
    const [controller, ...others] = (await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=controller' })).items;
    expect(others).toEqual([]);
    expect(onRealNode(controller!)).toBe(true);
    expect(controller!.spec?.serviceAccountName).toBe(`${release}-controller`);
    expect(controller!.spec?.containers[0]?.image).toBe(`localhost/sluice-controller:${version}`);
    expect(controller!.status?.containerStatuses?.[0]?.ready).toBe(true);
  }, 600_000);

  let applied = 0;

  it('runs the fraud-velocity example applied with kubectl as the README says, and times apply → first result', async () => {
    applied = Date.now();
    await kubectl('apply', '-f', 'examples/fraud-velocity/topics.yaml', '-f', 'examples/fraud-velocity/job.yaml');
    await eventually(
      'Topic transactions Ready',
      async () =>
        (await kubectl('get', 'topic', 'transactions', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')) === 'True' ? true : undefined,
      120_000,
      250,
    );
    await feed.open();
    await feed.produce(300);
    const first = await eventually('the first result in fraud-features', async () => (await readResults('fraud-features'))[0], 300_000, 250);
    process.stdout.write(`real node: kubectl apply → first result in Kafka (read_committed): ${first.appendedAt - applied} ms\n`);

    await waitForPhase(namespace, job, 'Running', 1);
    const pods = await jobPods(namespace, job);
    expect(pods.map((pod) => pod.metadata?.name)).toEqual([`${job}-0`]);
    expect(pods.every(onRealNode)).toBe(true);
    expect(pods[0]!.spec?.containers[0]?.image).toBe(`localhost/sluice-runtime:${version}`);
  }, 600_000);

  it('upgrades the job through a savepoint (new logic and parallelism 2) and rescales it 2 → 3 with kubectl scale', async () => {
    feed.startSteady();
    // The example with one more aggregate and two pods, applied as a changed manifest.
    const manifest = parseDocument(readFileSync(`${root}examples/fraud-velocity/job.yaml`, 'utf8'));
    manifest.addIn(['spec', 'pipeline', 1, 'aggregate'], { name: 'txn_max', fn: 'max', field: 'amount' });
    manifest.setIn(['spec', 'parallelism'], 2);
    await kubectlWith(manifest.toString(), 'apply', '-f', '-');
    let status = await waitForPhase(namespace, job, 'Running', 2, 300_000);
    expect(status.status?.lastSavepoint).toMatchObject({ trigger: 'upgrade', generation: 1, parallelism: 1 });
    expect(status.status?.lastSavepoint?.location).toMatch(new RegExp(`^s3://${bucket}/`));
    await eventually(
      'results of the new spec',
      async () => ((await readResults('fraud-features')).some((result) => result.txn_max !== undefined) ? true : undefined),
      120_000,
      500,
    );

    await kubectl('scale', `streamjob/${job}`, '--replicas=3');
    status = await waitForPhase(namespace, job, 'Running', 3, 300_000);
    expect(status.status?.lastSavepoint).toMatchObject({ trigger: 'rescale', parallelism: 2 });
    expect(status.status?.parallelism).toBe(3);
    const pods = await jobPods(namespace, job);
    expect(pods.map((pod) => pod.metadata?.name).sort()).toEqual([0, 1, 2].map((ordinal) => `${job}-${ordinal}`));
    expect(pods.every(onRealNode)).toBe(true);
  }, 900_000);

  it('survives kill -9 of a runtime process: the kubelet restarts the container, and no result is lost or doubled', async () => {
    const pod = await core.readNamespacedPod({ namespace, name: `${job}-1` });
    const container = pod.status!.containerStatuses![0]!;
    const restarts = container.restartCount;
    const { stdout } = await run(crictl, [
      '--runtime-endpoint',
      `unix://${realNode.containerdSocket}`,
      'inspect',
      container.containerID!.replace('containerd://', ''),
    ]);
    // The container's PID 1 is tini; the runtime is its child, node.
    const init = (JSON.parse(stdout) as { info: { pid: number } }).info.pid;
    const runtime = Number((await run('pgrep', ['-P', String(init)])).stdout.trim().split('\n')[0]);
    expect(readFileSync(`/proc/${runtime}/cmdline`, 'utf8')).toMatch(/node/);
    const killed = Date.now();
    process.kill(runtime, 'SIGKILL');
    await eventually(
      `${job}-1 restarted by the kubelet and ready`,
      async () => {
        const status = (await core.readNamespacedPod({ namespace, name: `${job}-1` })).status?.containerStatuses?.[0];
        return status !== undefined && status.restartCount > restarts && status.ready === true ? status : undefined;
      },
      180_000,
      250,
    );
    process.stdout.write(`real node: kill -9 of the runtime → container restarted and ready: ${Date.now() - killed} ms\n`);
    await waitForPhase(namespace, job, 'Running', 3);

    // Every window of every customer once, with the count and sum of exactly its transactions, across all of the above.
    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, 'fraud-features', 300_000);
    expect(described(results)).toEqual(feed.expected());

    // The feature store holds each customer's count in its last window.
    const last = new Map<string, number>();
    for (const line of feed.expected()) {
      const [customer, , count] = line.split(' ');
      last.set(customer!, Number(count!.replace('count=', '')));
    }
    for (const [customer, count] of last) expect(await redis.get(`fraud_features:${customer}:txn_count_5m`)).toBe(String(count));

    const oldSpec = results.filter((result) => result.txn_max === undefined).map((result) => result.appendedAt);
    const newSpec = results.filter((result) => result.txn_max !== undefined).map((result) => result.appendedAt);
    process.stdout.write(
      `real node: upgrade downtime (last old-spec result → first new-spec result): ${Math.min(...newSpec) - Math.max(...oldSpec)} ms over ${results.length} results\n`,
    );
    expect((await readJob(namespace, job)).status?.phase).toBe('Running');
  }, 900_000);

  it("streamctl logs prints every pod's log from the kubelet, each line after its pod's name; --previous the killed container's; -f follows", async () => {
    const streamctl = [`${root}cli/bin/streamctl.js`];
    const flags = ['-n', namespace, '--kubeconfig', endpoints.kube.kubeconfig];
    const pods = [0, 1, 2].map((ordinal) => `${job}-${ordinal}`);
    /** The runtime's JSON log lines of each pod in streamctl logs' output. */
    const linesOf = (stdout: string, pod: string): Record<string, unknown>[] =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith(`[${pod}] `))
        .map((line) => line.slice(line.indexOf('] ') + 2).trim())
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    const all = await run(process.execPath, [...streamctl, 'logs', job, ...flags]);
    for (const pod of pods) expect(linesOf(all.stdout, pod).length).toBeGreaterThan(0);

    // Only fraud-velocity-1 has a container before this one: the one killed -9 above.
    const previous = await run(process.execPath, [...streamctl, 'logs', job, '--previous', ...flags]);
    expect(linesOf(previous.stdout, `${job}-1`).length).toBeGreaterThan(0);
    expect(pods.filter((pod) => pod !== `${job}-1`).map((pod) => linesOf(previous.stdout, pod).length)).toEqual([0, 0]);

    // -f streams until stopped: it is still running once every pod's lines have arrived.
    const following = spawn(process.execPath, [...streamctl, 'logs', job, '-f', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    following.stdout.setEncoding('utf8').on('data', (chunk: string) => (followed += chunk));
    try {
      await eventually(
        "streamctl logs -f to print every pod's lines",
        () => Promise.resolve(pods.every((pod) => linesOf(followed, pod).length > 0) ? true : undefined),
        60_000,
        250,
      );
      expect(following.exitCode).toBeNull();
    } finally {
      following.kill('SIGTERM');
    }
  }, 300_000);
});
