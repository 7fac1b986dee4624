// The test environment's Kubernetes control plane: a real apiserver that stores objects and a controller-manager that makes Pods.
import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readEndpoints } from './src/endpoints.js';
import { eventually } from './src/eventually.js';

const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(readEndpoints().kube.kubeconfig);
const core = kubeconfig.makeApiClient(CoreV1Api);
const apps = kubeconfig.makeApiClient(AppsV1Api);
const namespace = `kube-test-${randomBytes(4).toString('hex')}`;

/** Polls until `read` returns a value; jest's test timeout bounds the wait. */
beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
});

describe('the Kubernetes control plane', () => {
  it('stores a ConfigMap and reads it back', async () => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { watermark: '5s' } } });

    const read = await core.readNamespacedConfigMap({ namespace, name: 'settings' });

    expect(read.data).toEqual({ watermark: '5s' });
    expect((await core.readNamespace({ name: namespace })).status?.phase).toBe('Active');
  });

  it('turns a StatefulSet of 2 replicas into 2 Pods, which stay Pending without a kubelet', async () => {
    const labels = { app: 'runtime' };
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'runtime' },
        spec: {
          replicas: 2,
          serviceName: 'runtime',
          // Parallel: the controller creates both Pods without waiting for the first to become Ready, which it never does here.
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'runtime', image: 'sluice/runtime:test' }] } },
        },
      },
    });

    const pods = await eventually('two Pods of the StatefulSet', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=runtime' });
      return list.items.length === 2 ? list.items : undefined;
    });

    expect(pods.map((pod: V1Pod) => pod.metadata?.name).sort()).toEqual(['runtime-0', 'runtime-1']);
    expect(pods.map((pod: V1Pod) => pod.status?.phase)).toEqual(['Pending', 'Pending']);
    expect(pods.every((pod: V1Pod) => pod.metadata?.ownerReferences?.[0]?.kind === 'StatefulSet')).toBe(true);
  });
});
