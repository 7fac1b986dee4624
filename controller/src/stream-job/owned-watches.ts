// What a StreamJob owns, watched as controller-runtime's Owns() does: a change to a job's StatefulSet (by its controller ownerReference) or to one of its runtime pods (by the sluice.dev/job label) requeues the job.
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import { group } from '@sluice/crds';
import type { InformerSource, ResourceInformer } from '../machinery/informer.js';
import { controllerOwnerKey, type Owned } from '../machinery/owner-references.js';
import { keyOf } from '../machinery/reconciler.js';
import { jobLabel } from './resources.js';

/** Only the StatefulSets and pods Sluice made carry the job label: the caches hold those, not every pod of the cluster. */
const labelSelector = jobLabel;

/** Makes (and, in the manager, starts and stops with the rest) one informer. */
export type InformerFactory = <T extends object>(source: InformerSource<T>, kind: string) => ResourceInformer<T>;

/** The job an object it made belongs to (its StatefulSet, a changelog Topic): its controller, when that is a StreamJob. */
export function jobKeyOfOwned(object: Owned): string | undefined {
  return controllerOwnerKey(object, { group, kind: 'StreamJob' });
}

/**
 * The job a runtime pod belongs to: its label, the one the reconciler lists a job's pods by. A pod's controller is the
 * StatefulSet, not the job; the label names the job without a second lookup.
 */
export function jobKeyOfPod(pod: V1Pod): string | undefined {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.labels?.[jobLabel];
  return namespace === undefined || name === undefined || name === '' ? undefined : keyOf({ namespace, name });
}

/**
 * Watches the StatefulSets and runtime pods of StreamJobs and calls `enqueue` with the job's key on every add, update
 * and delete of one: a pod turning ready, failing or going, a StatefulSet the StatefulSet controller caught up with.
 * The reconciler reads the world again (level-based), so which change it was does not matter.
 */
export function watchOwnedObjects(
  kubeconfig: KubeConfig,
  informer: InformerFactory,
  enqueue: (jobKey: string) => void,
): Pick<ResourceInformer<object>, 'start' | 'stop'>[] {
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const statefulSets = informer<V1StatefulSet>(
    {
      path: (namespace) => (namespace === undefined ? '/apis/apps/v1/statefulsets' : `/apis/apps/v1/namespaces/${namespace}/statefulsets`),
      labelSelector,
      list: (namespace) =>
        namespace === undefined ? apps.listStatefulSetForAllNamespaces({ labelSelector }) : apps.listNamespacedStatefulSet({ namespace, labelSelector }),
    },
    'StatefulSet',
  );
  const pods = informer<V1Pod>(
    {
      path: (namespace) => (namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${namespace}/pods`),
      labelSelector,
      list: (namespace) => (namespace === undefined ? core.listPodForAllNamespaces({ labelSelector }) : core.listNamespacedPod({ namespace, labelSelector })),
    },
    'Pod',
  );
  statefulSets.onChange((statefulSet) => {
    const key = jobKeyOfOwned(statefulSet);
    if (key !== undefined) enqueue(key);
  });
  pods.onChange((pod) => {
    const key = jobKeyOfPod(pod);
    if (key !== undefined) enqueue(key);
  });
  return [statefulSets, pods];
}
