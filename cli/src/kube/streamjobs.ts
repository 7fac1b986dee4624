// StreamJob objects through the API server: list them, read one, merge-patch its spec, set its parallelism through the scale subresource.
import { group, version, type StreamJob } from '@sluice/crds';
import { resourcePath } from './api.js';
import { explainApiError, type Cluster } from './cluster.js';

const plural = 'streamjobs';
const mergePatch = 'application/merge-patch+json';
/** Who changed the spec, as managedFields and kubectl get --show-managed-fields name it. */
const fieldManager = 'streamctl';

export class StreamJobs {
  constructor(readonly cluster: Cluster) {}

  private path(name: string, subresource?: string): string {
    return resourcePath({ group, version, plural, namespace: this.cluster.namespace, name, ...(subresource === undefined ? {} : { subresource }) });
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
      const path = resourcePath({ group, version, plural, ...(allNamespaces ? {} : { namespace }) });
      const list = await this.cluster.api.request<{ items: StreamJob[] }>('GET', path);
      const key = (job: StreamJob) => `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`;
      return list.items.sort((a, b) => key(a).localeCompare(key(b)));
    } catch (error) {
      throw explainApiError(error, this.cluster, () => `namespace "${namespace}" does not exist: kubectl get namespaces lists them`);
    }
  }

  async read(name: string): Promise<StreamJob> {
    try {
      return await this.cluster.api.request<StreamJob>('GET', this.path(name));
    } catch (error) {
      throw this.fail(name, error);
    }
  }

  /** A JSON merge patch (RFC 7386) of the object; null removes a field. Returns the object as stored after it. */
  async patch(name: string, body: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> }): Promise<StreamJob> {
    try {
      return await this.cluster.api.request<StreamJob>('PATCH', this.path(name), { fieldManager }, { body, contentType: mergePatch });
    } catch (error) {
      throw this.fail(name, error);
    }
  }

  /** Sets spec.parallelism through the scale subresource, as kubectl scale does, so an RBAC rule on streamjobs/scale is enough. */
  async scale(name: string, replicas: number): Promise<void> {
    try {
      await this.cluster.api.request('PATCH', this.path(name, 'scale'), { fieldManager }, { body: { spec: { replicas } }, contentType: mergePatch });
    } catch (error) {
      throw this.fail(name, error);
    }
  }
}
