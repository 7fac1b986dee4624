// What the controller's end-to-end tests share: clients on the test environment, a namespace per test file, the controller in-process, and waits on conditions.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startManager, type ManagerOptions, type RunningManager } from '@sluice/controller';
import { group, version, type Condition, type SchemaSubject, type Topic } from '@sluice/crds';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import { readEndpoints } from '../../env/src/endpoints.js';
import { eventually } from '../../env/src/eventually.js';
import { installCrds } from '../install-crds.js';

export const endpoints = readEndpoints();
export const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(endpoints.kube.kubeconfig);
export const core = kubeconfig.makeApiClient(CoreV1Api);
const objects = kubeconfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export const randomName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** CRDs installed and a namespace of the test's own. */
export async function prepareNamespace(prefix: string): Promise<string> {
  await installCrds(kubeconfig);
  const namespace = randomName(prefix);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return namespace;
}

/**
 * Deletes the namespace's Sluice resources while a controller still runs to release their finalizers, then the
 * namespace itself. Kafka topics and subjects the tests made stay where their deletion policy leaves them.
 */
export async function cleanNamespace(namespace: string): Promise<void> {
  for (const plural of ['topics', 'schemasubjects'] as const) {
    const list = (await objects.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: { metadata: { name: string } }[] };
    for (const item of list.items) await remove(plural, namespace, item.metadata.name);
    for (const item of list.items) await gone(plural, namespace, item.metadata.name);
  }
  await core.deleteNamespace({ name: namespace });
}

export async function kafkaAdmin(): Promise<Admin> {
  const admin = new Kafka({ clientId: 'sluice-controller-test', brokers: endpoints.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}

/** The controller in this process, watching `namespace`, resyncing every second so drift is seen quickly. */
export function runController(namespace: string, options: Partial<ManagerOptions> = {}): Promise<RunningManager> {
  return startManager({
    kubeconfig,
    namespaces: { all: false, names: [namespace] },
    kafkaBrokers: endpoints.kafka.brokers,
    resyncPeriodMs: 1000,
    log: pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }),
    ...options,
  });
}

type Kind = 'topics' | 'schemasubjects';
type Object<K extends Kind> = K extends 'topics' ? Topic : SchemaSubject;

export async function create<K extends Kind>(plural: K, namespace: string, object: Omit<Object<K>, 'apiVersion' | 'kind'>): Promise<Object<K>> {
  const kind = plural === 'topics' ? 'Topic' : 'SchemaSubject';
  const body = { apiVersion: `${group}/${version}`, kind, ...object, metadata: { ...object.metadata, namespace } };
  return (await objects.createNamespacedCustomObject({ group, version, namespace, plural, body })) as Object<K>;
}

export async function read<K extends Kind>(plural: K, namespace: string, name: string): Promise<Object<K> | undefined> {
  try {
    return (await objects.getNamespacedCustomObject({ group, version, namespace, plural, name })) as Object<K>;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

export async function list<K extends Kind>(plural: K, namespace: string): Promise<Object<K>[]> {
  return ((await objects.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: Object<K>[] }).items;
}

export async function patch(plural: Kind, namespace: string, name: string, body: object): Promise<void> {
  await objects.patchNamespacedCustomObject({ group, version, namespace, plural, name, body }, mergePatch);
}

export async function remove(plural: Kind, namespace: string, name: string): Promise<void> {
  await objects.deleteNamespacedCustomObject({ group, version, namespace, plural, name });
}

/** Waits until the object is gone from the API server (its finalizer removed). */
export async function gone(plural: Kind, namespace: string, name: string): Promise<void> {
  await eventually(
    `${plural} ${namespace}/${name} to be deleted`,
    async () => ((await read(plural, namespace, name)) === undefined ? true : undefined),
    30_000,
  );
}

export function condition(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((candidate) => candidate.type === type);
}

/** Waits until the object's `type` condition has `status` and `reason` for its current generation; returns the object. */
export async function until<K extends Kind>(
  plural: K,
  namespace: string,
  name: string,
  type: string,
  status: Condition['status'],
  reason: string,
  timeoutMs = 30_000,
): Promise<Object<K>> {
  return eventually(
    `${plural} ${namespace}/${name} to have ${type}=${status} (${reason})`,
    async () => {
      const object = await read(plural, namespace, name);
      const found = condition(object, type);
      const current = found?.observedGeneration === undefined || found.observedGeneration === object?.metadata.generation;
      return found?.status === status && found.reason === reason && current ? object : undefined;
    },
    timeoutMs,
  );
}

export { eventually };
