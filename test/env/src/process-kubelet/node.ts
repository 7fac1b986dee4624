// The process kubelet's Node: registered Ready, with a Lease in kube-node-lease renewed as a kubelet renews it.
import { ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node } from '@kubernetes/client-node';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const leaseDurationSeconds = 40;
const renewIntervalMs = 10_000;

function code(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

function readyStatus(now: Date, readySince: Date): V1Node['status'] {
  return {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'the process kubelet runs Pods as local processes',
        lastHeartbeatTime: now,
        lastTransitionTime: readySince,
      },
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
    allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
    nodeInfo: {
      architecture: process.arch,
      bootID: '',
      containerRuntimeVersion: 'process://local',
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: 'process-kubelet',
      machineID: '',
      operatingSystem: process.platform,
      osImage: '',
      systemUUID: '',
    },
  };
}

/**
 * Creates the Node (or takes over one of the same name: several process kubelets, each for its own namespaces, share one
 * Node) and keeps it fresh until the returned stop is called. The Node is left behind on stop, as a stopped kubelet's is.
 */
export async function registerNode(kubeconfig: KubeConfig, nodeName: string, log: (line: string) => void): Promise<() => void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const coordination = kubeconfig.makeApiClient(CoordinationV1Api);
  const readySince = new Date();
  const heartbeat = async (): Promise<void> => {
    const now = new Date();
    try {
      await core.createNode({
        body: {
          metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'sluice.dev/process-kubelet': 'true' } },
          status: readyStatus(now, readySince),
        },
      });
    } catch (error) {
      if (code(error) !== 409) throw error;
    }
    // Creating a Node may drop its status; writing it through the status subresource makes it stick.
    await core.patchNodeStatus({ name: nodeName, body: { status: readyStatus(now, readySince) } }, mergePatch);
    // A Lease's renewTime is a MicroTime: the API server parses exactly six fractional digits.
    const renewTime = now.toISOString().replace('Z', '000Z');
    const lease = { holderIdentity: nodeName, leaseDurationSeconds, renewTime };
    try {
      await coordination.patchNamespacedLease({ namespace: 'kube-node-lease', name: nodeName, body: { spec: lease } }, mergePatch);
    } catch (error) {
      if (code(error) !== 404) throw error;
      await coordination
        .createNamespacedLease({
          namespace: 'kube-node-lease',
          body: { metadata: { name: nodeName }, spec: { ...lease, renewTime: renewTime as unknown as Date } },
        })
        .catch((createError: unknown) => {
          if (code(createError) !== 409) throw createError;
        });
    }
  };
  await heartbeat();
  const timer = setInterval(() => {
    heartbeat().catch((error: unknown) => log(`node heartbeat failed, trying again in ${renewIntervalMs / 1000}s: ${String(error)}`));
  }, renewIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
