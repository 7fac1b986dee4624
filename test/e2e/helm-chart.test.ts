// The Helm chart: it lints and renders, its CRDs are crds/manifests, and a controller running as the chart's ServiceAccount with only the chart's RBAC brings a Topic to Ready and a StreamJob through its start and a rescale.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { leaderElectionDefaults, leaderIdentity, startManager, type RunningManager } from '@sluice/controller';
import { group, version } from '@sluice/crds';
import { pino } from 'pino';
import { eventually } from '../env/src/eventually.js';
import { helm } from '../env/src/helm.js';
import { create, until } from './controller/harness.js';
import { core, createJob, endpoints, fraudJob, jobPods, jobTest, kubeconfig, patchSpec, uniqueName, waitForPhase } from './stream-job/harness.js';

const chartDir = fileURLToPath(new URL('../../charts/sluice/', import.meta.url));
const manifestsDir = fileURLToPath(new URL('../../crds/manifests/', import.meta.url));
const rbacKinds = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

const objectApi = KubernetesObjectApi.makeApiClient(kubeconfig);
const apps = kubeconfig.makeApiClient(AppsV1Api);

/** The chart rendered for a release in `namespace`; `values` are --set pairs. */
async function render(release: string, namespace: string, values: Record<string, string>): Promise<KubernetesObject[]> {
  const sets = Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  const rendered = await helm(['template', release, chartDir, '--namespace', namespace, ...sets]);
  return (loadAllYaml(rendered) as (KubernetesObject | null)[]).filter((object): object is KubernetesObject => object !== null);
}

/** A kubeconfig on the test API server that authenticates with `token` and nothing else. */
function kubeconfigWithToken(token: string): KubeConfig {
  const cluster = kubeconfig.getCurrentCluster()!;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'sluice-controller', token }],
    contexts: [{ name: 'sluice-controller', cluster: cluster.name, user: 'sluice-controller' }],
    currentContext: 'sluice-controller',
  });
  return config;
}

/** The HTTP status a call ends with: 200 when it succeeds. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

const setup = jobTest('helm-chart', { inProcessController: false });
const release = uniqueName('sluice');
const releaseNamespace = uniqueName('sluice-system');
let rbac: KubernetesObject[] = [];
let asController: KubeConfig;
let controller: RunningManager | undefined;

// Runs after jobTest's hooks: the controller is started once the world exists and stopped after the world's namespace is
// gone, so the Topics' finalizers are released by the very identity under test.
beforeAll(async () => {
  const { namespace } = setup.world;
  await core.createNamespace({ body: { metadata: { name: releaseNamespace } } });
  const rendered = await render(release, releaseNamespace, {
    'kafka.bootstrap': endpoints.kafka.brokers.join('\\,'),
    'controller.watchNamespaces': `{${namespace}}`,
  });
  rbac = rendered.filter((object) => rbacKinds.includes(object.kind!));
  for (const object of rbac) await objectApi.create(object);

  const serviceAccount = rbac.find((object) => object.kind === 'ServiceAccount')!.metadata!.name!;
  const { status } = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: releaseNamespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  asController = kubeconfigWithToken(status!.token!);
  // The authorizer learns new bindings from a watch: wait until the identity may do what the controller does first.
  const custom = asController.makeApiClient(CustomObjectsApi);
  const leases = asController.makeApiClient(CoordinationV1Api);
  await eventually('the chart RBAC to reach the authorizer', async () => {
    await custom.listNamespacedCustomObject({ group, version, namespace, plural: 'streamjobs' });
    return (await statusOf(leases.readNamespacedLease({ namespace: releaseNamespace, name: 'sluice-controller' }))) === 404 ? true : undefined;
  });

  controller = await startManager({
    kubeconfig: asController,
    namespaces: { all: false, names: [namespace] },
    kafkaBrokers: endpoints.kafka.brokers,
    leaderElection: leaderElectionDefaults(releaseNamespace, leaderIdentity()),
    resyncPeriodMs: 1000,
    log: pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }),
  });
}, 60_000);

afterAll(async () => {
  await controller?.stop();
  for (const object of rbac.filter((candidate) => candidate.metadata?.namespace === undefined)) await objectApi.delete(object).catch(() => undefined);
  await core.deleteNamespace({ name: releaseNamespace }).catch(() => undefined);
}, 60_000);

describe('the sluice Helm chart', () => {
  it('lints clean', async () => {
    const output = await helm(['lint', chartDir, '--strict', '--set', 'kafka.bootstrap=kafka:9092']);
    expect(output).toContain('0 chart(s) failed');
  });

  it('holds the CRDs of crds/manifests byte for byte', () => {
    const chartCrds = `${chartDir}crds/`;
    const same = (file: string): boolean =>
      existsSync(`${chartCrds}${file}`) &&
      existsSync(`${manifestsDir}${file}`) &&
      readFileSync(`${chartCrds}${file}`).equals(readFileSync(`${manifestsDir}${file}`));
    const files = new Set([...readdirSync(manifestsDir), ...readdirSync(chartCrds)]);
    const differing = [...files].filter((file) => !same(file)).map((file) => `charts/sluice/crds/${file} is not crds/manifests/${file}: run npm run gen`);
    expect(differing).toEqual([]);
  });

  it('renders the controller with its arguments from values, and the registry and ServiceMonitor only when enabled', async () => {
    const plain = await render('sluice', 'sluice-system', { 'kafka.bootstrap': 'kafka:9092' });
    // Three ClusterRoles: the controller's, and the two aggregated into the built-in view and edit roles; the NetworkPolicy of the controller's metrics.
    expect(plain.map((object) => object.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);

    const full = await render('sluice', 'sluice-system', {
      'kafka.bootstrap': 'kafka-0:9092\\,kafka-1:9092',
      'controller.watchNamespaces': '{payments,fraud}',
      'controller.snapshotLocation': 's3://savepoints/sluice',
      'registry.enabled': 'true',
      'serviceMonitor.enabled': 'true',
    });
    const deployments = full.filter((object): object is V1Deployment => object.kind === 'Deployment');
    const controllerPod = deployments.find((deployment) => deployment.metadata?.name === 'sluice-controller')!.spec!.template.spec!;
    const container = controllerPod.containers[0]!;
    expect(container.image).toBe('ghcr.io/sluice/sluice-controller:0.1.0');
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--kafka-bootstrap=kafka-0:9092,kafka-1:9092',
        '--registry-url=http://sluice-registry.sluice-system.svc:8081',
        '--snapshot-location=s3://savepoints/sluice',
        '--namespace=payments',
        '--namespace=fraud',
        '--leader-elect',
        '--leader-election-namespace=sluice-system',
        '--metrics-bind-address=0.0.0.0',
      ]),
    );
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'metrics' });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(controllerPod.securityContext).toMatchObject({ runAsNonRoot: true });
    const registry = deployments.find((deployment) => deployment.metadata?.name === 'sluice-registry')!.spec!.template.spec!.containers[0]!;
    expect(registry.args).toContain('--store=kafka:kafka-0:9092,kafka-1:9092');
    expect(full.some((object) => object.kind === 'ServiceMonitor')).toBe(true);
    // The runtime pods are scraped too, keeping the job and namespace labels they set.
    const podMonitor = full.find((object) => object.kind === 'PodMonitor') as unknown as
      { spec: { selector: unknown; podMetricsEndpoints: { port: string; honorLabels: boolean }[] } } | undefined;
    expect(podMonitor?.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'sluice-runtime' } });
    expect(podMonitor?.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'http', honorLabels: true });

    await expect(render('sluice', 'sluice-system', {})).rejects.toThrow(/kafka.bootstrap is required/);
  });

  it('runs the controller as the chart ServiceAccount, which may do nothing outside its role', async () => {
    const { namespace } = setup.world;
    const review = await asController.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    const serviceAccount = rbac.find((object) => object.kind === 'ServiceAccount')!.metadata!.name!;
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${releaseNamespace}:${serviceAccount}`);

    const asControllerCore = asController.makeApiClient(CoreV1Api);
    expect(await statusOf(asControllerCore.deleteNamespace({ name: namespace, dryRun: 'All' }))).toBe(403);
    // Secrets it may read one by one, by name; never list.
    expect(await statusOf(asControllerCore.listNamespacedSecret({ namespace }))).toBe(403);
    // Leases only in the release namespace.
    expect(await statusOf(asController.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace, name: 'sluice-controller' }))).toBe(403);

    const lease = await eventually('the controller to hold its Lease', async () => {
      const found = await kubeconfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: releaseNamespace, name: 'sluice-controller' });
      return found.spec?.holderIdentity ? found : undefined;
    });
    expect(lease.spec?.holderIdentity).toContain('_');
  });

  it('brings a Topic to Ready with only the chart RBAC', async () => {
    const { namespace } = setup.world;
    const name = uniqueName('helm-topic');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 2, replicas: 1 } });
    const topic = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(topic.metadata.finalizers).toContain('sluice.dev/topic');
  });

  it('runs a StreamJob and rescales it 2 → 3 with only the chart RBAC', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(300);
    await createJob(namespace, fraudJob(name, topics, world));
    let job = await waitForPhase(namespace, name, 'Running', 1);
    expect(job.status?.parallelism).toBe(2);

    feed.startSteady();
    const rescaled = await patchSpec(namespace, name, { parallelism: 3 });
    job = await waitForPhase(namespace, name, 'Running', rescaled);
    await feed.stopSteady();
    expect(job.status?.parallelism).toBe(3);
    expect(job.status?.lastSavepoint).toMatchObject({ trigger: 'rescale', parallelism: 2 });
    expect((await apps.readNamespacedStatefulSet({ namespace, name })).spec?.replicas).toBe(3);
    expect((await jobPods(namespace, name)).map((pod) => pod.metadata?.name).sort()).toEqual([`${name}-0`, `${name}-1`, `${name}-2`]);
    // The controller's Events reached the API server under its identity.
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=StreamJob,involvedObject.name=${name}` });
    expect(events.items.length).toBeGreaterThan(0);
  }, 300_000);
});
