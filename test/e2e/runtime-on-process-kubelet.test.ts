// The Sluice runtime image on the process kubelet: a StatefulSet of 2 runtime pods, configured the Kubernetes way, owns and reads its partitions from Kafka.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { RuntimeStatus } from '@sluice/crds';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { podAddress, runtimeImages, startProcessKubelet, type ProcessKubelet } from '../env/src/process-kubelet/index.js';
import { produceTransactions, uniqueName, writeFraudJob } from './kafka/harness.js';

const endpoints = readEndpoints();
const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(endpoints.kube.kubeconfig);
const core = kubeconfig.makeApiClient(CoreV1Api);
const apps = kubeconfig.makeApiClient(AppsV1Api);
const namespace = `runtime-kubelet-${randomBytes(4).toString('hex')}`;
const scratch = mkdtempSync(join(tmpdir(), 'runtime-kubelet-test-'));
const token = randomBytes(16).toString('hex');
let kubelet: ProcessKubelet;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  kubelet = await startProcessKubelet({ kubeconfig: endpoints.kube.kubeconfig, images: runtimeImages(), namespace, workDir: scratch });
});

afterAll(async () => {
  // The namespace goes first, while the kubelet still ends its Pods.
  await core.deleteNamespace({ name: namespace });
  await eventually(
    'the namespace gone',
    () =>
      core.readNamespace({ name: namespace }).then(
        () => undefined,
        (error: unknown) => (error instanceof ApiException && error.code === 404 ? true : undefined),
      ),
    45_000,
  );
  await kubelet.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function status(pod: V1Pod): Promise<RuntimeStatus | undefined> {
  const response = await fetch(`${podAddress(pod, 'http')}/status`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  return response?.ok === true ? ((await response.json()) as RuntimeStatus) : undefined;
}

describe('the runtime image on the process kubelet', () => {
  it('runs 2 runtime pods from a StatefulSet; each owns its partitions and reads them', async () => {
    const brokers = endpoints.kafka.brokers;
    const name = uniqueName('fraud-kubelet');
    const input = `${name}-txn`;
    await produceTransactions(brokers, input, { count: 40, partitions: 4, customers: 5 });
    const job = readFileSync(writeFraudJob({ name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` }), 'utf8');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'job' }, data: { 'job.yaml': job } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'control' }, stringData: { token } } });
    const labels = { app: name };

    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'fraud' },
        spec: {
          replicas: 2,
          serviceName: 'fraud',
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'runtime',
                  image: 'ghcr.io/sluice/sluice-runtime:dev',
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
                  env: [
                    { name: 'SLUICE_JOB_FILE', value: '/etc/sluice/job/job.yaml' },
                    { name: 'SLUICE_KAFKA_BROKERS', value: brokers.join(',') },
                    { name: 'SLUICE_POD_ORDINAL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
                    { name: 'SLUICE_PARALLELISM', value: '2' },
                    { name: 'SLUICE_STATE_DIR', value: '/var/lib/sluice/state' },
                    { name: 'SLUICE_HTTP_PORT', value: '8080' },
                    { name: 'SLUICE_HTTP_HOST', value: '0.0.0.0' },
                    { name: 'SLUICE_CONTROL_TOKEN', valueFrom: { secretKeyRef: { name: 'control', key: 'token' } } },
                  ],
                  volumeMounts: [
                    { name: 'job', mountPath: '/etc/sluice/job', readOnly: true },
                    { name: 'state', mountPath: '/var/lib/sluice/state' },
                  ],
                },
              ],
              volumes: [
                { name: 'job', configMap: { name: 'job' } },
                { name: 'state', emptyDir: {} },
              ],
            },
          },
        },
      },
    });

    const statuses = await eventually(
      'both runtime pods Ready, having read their 20 records each',
      async () => {
        const pods = await Promise.all(['fraud-0', 'fraud-1'].map((pod) => core.readNamespacedPod({ namespace, name: pod })));
        const ready = pods.every((pod) => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'));
        if (!ready) return undefined;
        const answers = await Promise.all(pods.map(status));
        return answers.every((answer) => answer?.recordsIn === 20) ? (answers as RuntimeStatus[]) : undefined;
      },
      45_000,
    );

    expect(statuses.map((answer) => [answer.ordinal, answer.parallelism, answer.partitions.map((partition) => partition.partition)])).toEqual([
      [0, 2, [0, 2]],
      [1, 2, [1, 3]],
    ]);
  });
});
