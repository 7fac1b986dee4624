// A manifest judged by the real API server without storing it: a server-side dry-run create (or replace, if it exists).
import { apiVersion, crdManifests, group, version, type FieldError, type Kind } from '@sluice/crds';
import { resourcePath } from './api.js';
import { apiStatus, explainApiError, onePerField, type ApiStatus, type Cluster } from './cluster.js';

interface Manifest {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown };
}

const plurals = new Map<string, string>(crdManifests().map((crd) => [crd.spec.names.kind as Kind, crd.spec.names.plural]));

/** True for the manifests the API server can judge: a Sluice kind at the served version (others the local checks refuse). */
export function judgedByServer(manifest: unknown): boolean {
  const { apiVersion: given, kind } = (manifest ?? {}) as Manifest;
  return given === apiVersion && typeof kind === 'string' && plurals.has(kind);
}

/** The field errors of a refusal: the causes of a 422, or the unknown fields strict decoding names in a 400. */
function fieldErrors(status: ApiStatus): FieldError[] | undefined {
  if (status.code === 422) {
    const causes = onePerField(status);
    if (causes.length === 0) return [{ path: '', message: status.message }];
    return causes.map(({ field, message }) => ({ path: field, message }));
  }
  if (status.code === 400) {
    const unknown = [...status.message.matchAll(/unknown field "([^"]+)"/g)].map(([, path]) => ({ path: path!, message: `unknown field "${path}"` }));
    return unknown.length > 0 ? unknown : [{ path: '', message: status.message }];
  }
  return undefined;
}

/**
 * What the API server says of the manifest: nothing when it would store it. Strict field validation reports unknown
 * fields as kubectl does. An object that already exists is judged as a replace of it (its update rules included).
 */
export async function serverProblems(cluster: Cluster, manifest: unknown): Promise<FieldError[]> {
  const { kind, metadata } = manifest as Manifest;
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : cluster.namespace;
  const collection = resourcePath({ group, version, namespace, plural: plurals.get(kind as string)! });
  const dryRun = { dryRun: 'All', fieldValidation: 'Strict' };
  const judge = async (write: () => Promise<unknown>): Promise<FieldError[] | 'exists'> => {
    try {
      await write();
      return [];
    } catch (error) {
      const status = apiStatus(error);
      if (status?.code === 409 && status.reason === 'AlreadyExists') return 'exists';
      const errors = status === undefined ? undefined : fieldErrors(status);
      if (errors !== undefined) return errors;
      throw explainApiError(error, cluster, () => `namespace "${namespace}" does not exist: create it with kubectl create namespace ${namespace}, or pass -n`);
    }
  };
  const created = await judge(() => cluster.api.request('POST', collection, dryRun, { body: manifest }));
  if (created !== 'exists') return created;
  const object = `${collection}/${encodeURIComponent(metadata!.name as string)}`;
  const stored = await cluster.api.request<Manifest>('GET', object);
  const body = { ...(manifest as object), metadata: { ...metadata, resourceVersion: stored.metadata?.resourceVersion } };
  const replaced = await judge(() => cluster.api.request('PUT', object, dryRun, { body }));
  return replaced === 'exists' ? [] : replaced;
}
