// StreamJob objects through the API server: list them, read one, merge-patch its spec, set its parallelism through the scale subresource.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { group, version, type StreamJob } from '@sluice/crds';
import { explainApiError, type Cluster } from './cluster.js';

const plural = 'streamjobs';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Who changed the spec, as managedFields and kubectl get --show-managed-fields name it. */
const fieldManager = 'streamctl';

export class StreamJobs {
  constructor(readonly cluster: Cluster) {}

  private target(name: string) {
    return { group, version, plural, namespace: this.cluster.namespace, name };
  }

  private fail(name: string, error: unknown): Error {
    const { namespace } = this.cluster;
    return explainApiError(
      error,
      this.cluster,
      () => `streamjob "${name}" not found in namespace "${namespace}": list jobs with kubectl get streamjobs -n ${namespace}`,
    );
  }

  /** The jobs of the namespace, or of every namespace, sorted as kubectl get sorts them: by namespace, then name. */
  async list(allNamespaces = false): Promise<StreamJob[]> {
    const { namespace } = this.cluster;
    try {
      const list = (
        allNamespaces
          ? await this.cluster.objects.listClusterCustomObject({ group, version, plural })
          : await this.cluster.objects.listNamespacedCustomObject({ group, version, plural, namespace })
      ) as { items: StreamJob[] };
      const key = (job: StreamJob) => `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`;
      return list.items.sort((a, b) => key(a).localeCompare(key(b)));
    } catch (error) {
      throw explainApiError(error, this.cluster, () => `namespace "${namespace}" does not exist: kubectl get namespaces lists them`);
    }
  }

  async read(name: string): Promise<StreamJob> {
    try {
      return (await this.cluster.objects.getNamespacedCustomObject(this.target(name))) as StreamJob;
    } catch (error) {
      throw this.fail(name, error);
    }
  }

  /** A JSON merge patch (RFC 7386) of the object; null removes a field. Returns the object as stored after it. */
  async patch(name: string, body: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> }): Promise<StreamJob> {
    try {
      return (await this.cluster.objects.patchNamespacedCustomObject({ ...this.target(name), body, fieldManager }, mergePatch)) as StreamJob;
    } catch (error) {
      throw this.fail(name, error);
    }
  }

  /** Sets spec.parallelism through the scale subresource, as kubectl scale does, so an RBAC rule on streamjobs/scale is enough. */
  async scale(name: string, replicas: number): Promise<void> {
    try {
      await this.cluster.objects.patchNamespacedCustomObjectScale({ ...this.target(name), body: { spec: { replicas } }, fieldManager }, mergePatch);
    } catch (error) {
      throw this.fail(name, error);
    }
  }
}
