// One kind of Sluice custom resource through the API server: read, finalizers (metadata merge-patch) and the status subresource.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { group, version, type ObjectMeta } from '@sluice/crds';
import type { ObjectList } from './informer.js';
import { isNotFound } from './kube-errors.js';
import type { ObjectKey } from './reconciler.js';

export interface CustomResource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  status?: object;
}

/** What a reconciler does to resources of its own kind: the API server's part that a unit test replaces. */
export interface ResourceClient<T extends CustomResource> {
  /** The object as stored now, or undefined when it is gone. */
  get(key: ObjectKey): Promise<T | undefined>;
  /** Replaces the finalizer list, failing with a conflict if the object changed since it was read. */
  setFinalizers(object: T, finalizers: string[]): Promise<T>;
  /** Merge-patches the status subresource. */
  patchStatus(key: ObjectKey, status: object): Promise<T>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class CustomResources<T extends CustomResource> implements ResourceClient<T> {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeconfig: KubeConfig,
    readonly plural: string,
    readonly fieldManager = 'sluice-controller',
  ) {
    this.api = kubeconfig.makeApiClient(CustomObjectsApi);
  }

  /** The watch path of the informer: one namespace, or all when `namespace` is undefined. */
  path(namespace?: string): string {
    return namespace === undefined ? `/apis/${group}/${version}/${this.plural}` : `/apis/${group}/${version}/namespaces/${namespace}/${this.plural}`;
  }

  async list(namespace?: string): Promise<ObjectList<T>> {
    const list: unknown =
      namespace === undefined
        ? await this.api.listClusterCustomObject({ group, version, plural: this.plural })
        : await this.api.listNamespacedCustomObject({ group, version, namespace, plural: this.plural });
    return list as ObjectList<T>;
  }

  /** The object as the API server has it now, or undefined when it is gone. */
  async get(key: ObjectKey): Promise<T | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({ group, version, plural: this.plural, ...key })) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Replaces the finalizer list. The resourceVersion makes it a compare-and-swap: a merge patch replaces the whole list,
   * so without it another writer's finalizer could be lost (a 409 requeues the key, which reads again).
   */
  async setFinalizers(object: T, finalizers: string[]): Promise<T> {
    const body = { metadata: { finalizers, resourceVersion: object.metadata.resourceVersion } };
    return (await this.api.patchNamespacedCustomObject(
      { group, version, plural: this.plural, ...keyOfObject(object), body, fieldManager: this.fieldManager },
      mergePatch,
    )) as T;
  }

  /** Merge-patches the status subresource; fields set to null are removed. */
  async patchStatus(key: ObjectKey, status: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      { group, version, plural: this.plural, ...key, body: { status }, fieldManager: this.fieldManager },
      mergePatch,
    )) as T;
  }
}

export function keyOfObject(object: { metadata: ObjectMeta }): ObjectKey {
  const { namespace, name } = object.metadata;
  if (namespace === undefined || name === undefined) throw new Error('a namespaced object without namespace or name');
  return { namespace, name };
}
