// The test-only process kubelet: plays scheduler and node for the real API server, running each Pod's containers as local processes.
import { mkdirSync } from 'node:fs';
import { ApiException, CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import type { ImageTable } from './images.js';
import { registerNode } from './node.js';
import { PodWorker } from './pod-worker.js';

export interface ProcessKubeletOptions {
  /** Path of a kubeconfig with rights over Pods, Nodes and Leases (the test environment's admin one). */
  kubeconfig: string;
  /** Image repository → local command (see ImageTable); a Pod whose image is not in it stays Pending with ErrImagePull. */
  images: ImageTable;
  /** Handle only Pods in these namespaces (default: all): parallel tests each run their own kubelet for their own namespace. */
  namespace?: string | string[];
  /** Handle only Pods that match this label selector. */
  labelSelector?: string;
  /** Logs, volumes and working folders go to `<workDir>/<namespace>/<pod>/`. */
  workDir: string;
  /** The Node's name (default `process-kubelet`); kubelets for different namespaces may share it. */
  nodeName?: string;
  /** Cap on a deleted Pod's grace period, in seconds (default 30). */
  maxGracePeriodSeconds?: number;
  /** Restart backoff after a crash (default 1 s doubling to 30 s, reset by a run of 60 s). */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** Where its one-line reports go (default: stderr). */
  log?: (line: string) => void;
}

export interface ProcessKubelet {
  readonly nodeName: string;
  /** Signals a Pod's processes (all its containers' process groups): SIGKILL simulates a crash, which restartPolicy answers. */
  kill(namespace: string, pod: string, signal?: NodeJS.Signals): void;
  /** Stops watching and ends every process it started (SIGTERM, then SIGKILL after 2 s); the Pods stay as they are. */
  stop(): Promise<void>;
}

type PodInformer = Informer<V1Pod> & ObjectCache<V1Pod>;

const stopGraceMs = 2000;
const watchRestartMs = 1000;

export async function startProcessKubelet(options: ProcessKubeletOptions): Promise<ProcessKubelet> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[process-kubelet] ${line}\n`));
  const nodeName = options.nodeName ?? 'process-kubelet';
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(options.kubeconfig);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  mkdirSync(options.workDir, { recursive: true });
  const workerOptions = {
    core,
    images: options.images,
    nodeName,
    workDir: options.workDir,
    maxGracePeriodMs: (options.maxGracePeriodSeconds ?? 30) * 1000,
    backoff: options.backoff ?? { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 },
    log,
  };
  const stopHeartbeat = await registerNode(kubeconfig, nodeName, log);
  const workers = new Map<string, PodWorker>();
  const binding = new Set<string>();
  let stopped = false;

  const bind = async (pod: V1Pod): Promise<void> => {
    const { namespace = 'default', name = '', uid = '' } = pod.metadata ?? {};
    if (binding.has(uid)) return;
    binding.add(uid);
    try {
      await core.createNamespacedPodBinding({ namespace, name, body: { metadata: { name, uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } } });
    } catch (error) {
      // 409: already bound (by us through an earlier event, or by another scheduler); 404: deleted meanwhile.
      if (!(error instanceof ApiException && (error.code === 409 || error.code === 404))) log(`binding ${namespace}/${name} failed: ${String(error)}`);
      binding.delete(uid);
    }
  };

  const onPod = (pod: V1Pod): void => {
    if (stopped) return;
    const uid = pod.metadata?.uid ?? '';
    const existing = workers.get(uid);
    if (existing !== undefined) {
      existing.update(pod);
      return;
    }
    if (pod.spec?.nodeName === undefined || pod.spec.nodeName === '') {
      if (pod.metadata?.deletionTimestamp === undefined) void bind(pod);
      return;
    }
    binding.delete(uid);
    if (pod.spec.nodeName !== nodeName) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const worker = new PodWorker(pod, workerOptions);
    workers.set(uid, worker);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Deleted before it ran (or while no kubelet watched): nothing to stop, only the Pod to remove.
      void worker.terminate().finally(() => workers.delete(uid));
      return;
    }
    worker.start().catch((error: unknown) => log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} did not start: ${String(error)}`));
  };

  const onDelete = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    binding.delete(uid);
    const worker = workers.get(uid);
    if (worker === undefined) return;
    // Gone from the API server (after our own delete, or a forced one): whatever still runs ends now.
    workers.delete(uid);
    void worker.stop(0);
  };

  const namespaces = options.namespace === undefined ? [undefined] : [options.namespace].flat();
  const informers: PodInformer[] = namespaces.map((namespace) => {
    const path = namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${namespace}/pods`;
    const list = () =>
      namespace === undefined
        ? core.listPodForAllNamespaces({ labelSelector: options.labelSelector })
        : core.listNamespacedPod({ namespace, labelSelector: options.labelSelector });
    const informer = makeInformer<V1Pod>(kubeconfig, path, list, options.labelSelector);
    informer.on('add', onPod);
    informer.on('update', onPod);
    informer.on('delete', onDelete);
    // client-node's informer stops on a watch error (an expired resourceVersion, the API server restarting): list and watch again.
    informer.on('error', () => {
      if (stopped) return;
      setTimeout(() => {
        if (!stopped) informer.start().catch((error: unknown) => log(`pod watch restart failed: ${String(error)}`));
      }, watchRestartMs).unref();
    });
    return informer;
  });
  await Promise.all(informers.map((informer) => informer.start()));
  // Detached processes outlive their parent: one that exits without stop() (a test that forgot it, process.exit) takes them along.
  const killAll = (): void => {
    for (const worker of workers.values()) worker.kill('SIGKILL');
  };
  process.once('exit', killAll);

  return {
    nodeName,
    kill(namespace, pod, signal = 'SIGKILL') {
      const targets = [...workers.values()].filter((worker) => worker.namespace === namespace && worker.name === pod);
      if (targets.length === 0) throw new Error(`the process kubelet runs no pod ${namespace}/${pod}: is it bound to ${nodeName} and in a watched namespace?`);
      for (const worker of targets) worker.kill(signal);
    },
    async stop() {
      stopped = true;
      process.off('exit', killAll);
      stopHeartbeat();
      await Promise.all(informers.map((informer) => informer.stop()));
      await Promise.all([...workers.values()].map((worker) => worker.stop(stopGraceMs)));
      workers.clear();
    },
  };
}
