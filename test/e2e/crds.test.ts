// The CRDs in a real API server: they install and become Established, it accepts every example (defaulted as our
// validator defaults it), and it refuses every manifest in invalid/ with its rule's message, exactly as validateManifest does.
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { crdManifests, formatFieldError, group, validateManifest, version, type FieldError } from '@sluice/crds';
import { parseAllDocuments } from 'yaml';
import { readEndpoints } from '../env/src/endpoints.js';
import { installCrds } from './install-crds.js';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const invalidDir = fileURLToPath(new URL('./invalid/', import.meta.url));

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; resourceVersion?: string }; spec?: unknown };

const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(readEndpoints().kube.kubeconfig);
const extensions = kubeconfig.makeApiClient(ApiextensionsV1Api);
const core = kubeconfig.makeApiClient(CoreV1Api);
const objects = kubeconfig.makeApiClient(CustomObjectsApi);

const plurals = new Map(crdManifests().map((crd) => [crd.spec.names.kind, crd.spec.names.plural]));
const namespace = `sluice-crds-${randomBytes(4).toString('hex')}`;

function documents(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => document.toJS() as Manifest);
}

function status(error: unknown): { code: number; message: string; causes?: { field?: string; message?: string }[] } {
  if (!(error instanceof ApiException)) throw error;
  const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message?: string; details?: { causes?: [] } };
  return { code: error.code, message: body.message ?? '', causes: body.details?.causes };
}

/** The API server's refusal as field errors: the causes of a 422, or the unknown fields strict decoding names in a 400. */
function refusal(error: unknown): FieldError[] {
  const { code, message, causes } = status(error);
  if (code === 422 && causes !== undefined) return causes.map((cause) => ({ path: cause.field ?? '', message: cause.message ?? '' }));
  const unknown = [...message.matchAll(/unknown field "([^"]+)"/g)].map(([, path]) => ({ path: path!, message: `unknown field "${path}"` }));
  if (unknown.length > 0) return unknown;
  throw new Error(`the API server answered ${code}: ${message}`);
}

const byPath = (a: FieldError, b: FieldError): number => formatFieldError(a).localeCompare(formatFieldError(b));

function target(manifest: Manifest) {
  const plural = plurals.get(manifest.kind);
  if (plural === undefined) throw new Error(`${manifest.kind} is not a Sluice kind`);
  return { group, version, namespace, plural };
}

async function create(manifest: Manifest): Promise<Manifest> {
  return (await objects.createNamespacedCustomObject({ ...target(manifest), body: manifest, fieldValidation: 'Strict' })) as Manifest;
}

async function replace(manifest: Manifest, stored: Manifest): Promise<Manifest> {
  const body = { ...manifest, metadata: { ...manifest.metadata, resourceVersion: stored.metadata.resourceVersion } };
  return (await objects.replaceNamespacedCustomObject({ ...target(manifest), name: manifest.metadata.name, body, fieldValidation: 'Strict' })) as Manifest;
}

async function remove(manifest: Manifest): Promise<void> {
  await objects.deleteNamespacedCustomObject({ ...target(manifest), name: manifest.metadata.name });
}

beforeAll(async () => {
  await installCrds(kubeconfig);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
});

describe('the CRDs in the API server', () => {
  it('install and become Established, with their printer columns, short names and scale subresource', async () => {
    for (const crd of crdManifests()) {
      const installed = await extensions.readCustomResourceDefinition({ name: crd.metadata.name });
      expect(installed.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      expect(installed.status?.acceptedNames?.shortNames).toEqual(crd.spec.names.shortNames);
      const served = installed.spec.versions[0]!;
      expect(served.additionalPrinterColumns?.map((c) => c.name)).toEqual(crd.spec.versions[0]!.additionalPrinterColumns?.map((c) => c.name));
      expect(served.subresources?.scale?.specReplicasPath).toBe(crd.spec.versions[0]!.subresources?.scale?.specReplicasPath);
    }
  });

  const examples = readdirSync(examplesDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml'));

  it.each(examples)('accept examples/%s, defaulted as validateManifest defaults it', async (file) => {
    for (const manifest of documents(`${examplesDir}${file}`)) {
      const stored = await create(manifest);
      expect(stored.spec).toEqual((validateManifest(manifest).manifest as Manifest).spec);
      await remove(manifest);
    }
  });

  it('scale a StreamJob through its scale subresource, as kubectl scale and an HPA do', async () => {
    const job = { ...documents(`${examplesDir}fraud-velocity/job.yaml`)[0]!, metadata: { name: 'scaled' } };
    await create(job);
    const scale = (await objects.getNamespacedCustomObjectScale({ ...target(job), name: 'scaled' })) as { spec: { replicas: number } };
    expect(scale.spec.replicas).toBe(1);
    await objects.replaceNamespacedCustomObjectScale({ ...target(job), name: 'scaled', body: { ...scale, spec: { replicas: 3 } } });
    const scaled = (await objects.getNamespacedCustomObject({ ...target(job), name: 'scaled' })) as { spec: { parallelism: number } };
    expect(scaled.spec.parallelism).toBe(3);
    await remove(job);
  });

  const invalid = readdirSync(invalidDir).filter((file) => file.endsWith('.yaml'));

  it.each(invalid)('refuse invalid/%s with the rule’s message, as validateManifest does', async (file) => {
    const text = readFileSync(`${invalidDir}${file}`, 'utf8');
    const expected = /^# expect: (.*)$/m.exec(text)?.[1];
    if (expected === undefined) throw new Error(`invalid/${file} has no "# expect: path: message" line`);
    const manifests = documents(`${invalidDir}${file}`);
    // One document is a create; two are a create and then an update over it, for the rules that compare with oldSelf.
    const [manifest, old] = manifests.length === 2 ? [manifests[1]!, await create(manifests[0]!)] : [manifests[0]!, undefined];

    const refused = await (old === undefined ? create(manifest) : replace(manifest, old)).then(
      () => undefined,
      (error: unknown) => refusal(error),
    );
    if (old !== undefined) await remove(old);

    expect(refused).toBeDefined();
    expect(refused!.map(formatFieldError).some((line) => line.startsWith(expected))).toBe(true);
    const ours = validateManifest(manifest, old === undefined ? {} : { old }).errors;
    expect([...ours].sort(byPath)).toEqual([...refused!].sort(byPath));
  });
});
