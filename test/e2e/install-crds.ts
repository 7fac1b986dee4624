// Installs Sluice's three CRDs into an API server (create, or replace what is there) and waits until each is Established.
import { ApiextensionsV1Api, ApiException, loadYaml, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { crdManifests } from '@sluice/crds';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function conflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

async function install(api: ApiextensionsV1Api, crd: V1CustomResourceDefinition): Promise<void> {
  const name = crd.metadata!.name!;
  for (;;) {
    try {
      await api.createCustomResourceDefinition({ body: crd });
      return;
    } catch (error) {
      if (!conflict(error)) throw error;
    }
    const installed = await api.readCustomResourceDefinition({ name });
    try {
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: installed.metadata!.resourceVersion } },
      });
      return;
    } catch (error) {
      // Another test installed it between our read and our write: read again.
      if (!conflict(error)) throw error;
    }
  }
}

async function established(api: ApiextensionsV1Api, name: string): Promise<void> {
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
}

/** Idempotent; safe when several tests install at once. */
export async function installCrds(kubeconfig: KubeConfig): Promise<void> {
  const api = kubeconfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of crdManifests()) {
    // client-node serialises typed models only: a plain object would lose its x-kubernetes-* keys, so it is typed first.
    await install(api, loadYaml<V1CustomResourceDefinition>(JSON.stringify(crd)));
  }
  for (const crd of crdManifests()) await established(api, crd.metadata.name);
}
