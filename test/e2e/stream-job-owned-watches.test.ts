// A StreamJob's StatefulSet and runtime pods watched on the real API server: a change to either enqueues the job at once — no requeue, no resync runs here.
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import { group, version, type StreamJob } from '@sluice/crds';
import { pino } from 'pino';
import { systemClock } from '../../controller/src/machinery/clock.js';
import { ResourceInformer } from '../../controller/src/machinery/informer.js';
import { watchOwnedObjects } from '../../controller/src/stream-job/owned-watches.js';
import { jobLabel, ownerReference, podLabels } from '../../controller/src/stream-job/resources.js';
import { core, eventually, kubeconfig, prepareNamespace, randomName } from './controller/harness.js';

const apps = kubeconfig.makeApiClient(AppsV1Api);
const custom = kubeconfig.makeApiClient(CustomObjectsApi);
const mergePatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let namespace: string;
let informers: { start(): Promise<void>; stop(): Promise<void> }[] = [];
/** The job keys the watches enqueued, in order. */
const enqueued: string[] = [];

beforeAll(async () => {
  namespace = await prepareNamespace('sj-watch');
  const log = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });
  informers = watchOwnedObjects(
    kubeconfig,
    (source, kind) => new ResourceInformer(kubeconfig, source, { all: false, names: [namespace] }, systemClock, log.child({ informer: kind })),
    (key) => enqueued.push(key),
  );
  await Promise.all(informers.map((informer) => informer.start()));
});

afterAll(async () => {
  await Promise.all(informers.map((informer) => informer.stop()));
  if (namespace !== undefined) await core.deleteNamespace({ name: namespace });
});

/** A StreamJob as kubectl apply creates it; no controller runs here, so nothing happens to it. */
async function createJob(name: string): Promise<StreamJob> {
  const body = {
    apiVersion: `${group}/${version}`,
    kind: 'StreamJob',
    metadata: { name, namespace },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json' }],
      sinks: [{ name: 'features', kafka: { topic: 'features' } }],
    },
  };
  return (await custom.createNamespacedCustomObject({ group, version, namespace, plural: 'streamjobs', body })) as StreamJob;
}

/** A StatefulSet with the job's labels, controlled by `owner` when given; no replicas, so no pods. */
async function createStatefulSet(name: string, labels: Record<string, string>, owner: StreamJob | undefined): Promise<V1StatefulSet> {
  const body: V1StatefulSet = {
    metadata: { name, namespace, labels, ...(owner === undefined ? {} : { ownerReferences: [ownerReference(owner)] }) },
    spec: {
      replicas: 0,
      serviceName: name,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'runtime', image: 'ghcr.io/sluice/sluice-runtime:0.1.0' }] } },
    },
  };
  return apps.createNamespacedStatefulSet({ namespace, body });
}

function createPod(name: string, labels: Record<string, string>): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace,
    body: { metadata: { name, namespace, labels }, spec: { containers: [{ name: 'runtime', image: 'ghcr.io/sluice/sluice-runtime:0.1.0' }] } },
  });
}

const annotate = { metadata: { annotations: { 'sluice.dev/test-touch': String(Date.now()) } } };

/** Waits until the watches enqueued `key` after `from` enqueues; returns every key enqueued by then. */
function enqueuedAfter(from: number, key: string): Promise<string[]> {
  return eventually(`${key} enqueued`, () => Promise.resolve(enqueued.slice(from).includes(key) ? enqueued.slice(from) : undefined), 10_000, 20);
}

describe('the watches of what a StreamJob owns', () => {
  it('enqueues the job when its StatefulSet is created and when it changes, and not for a StatefulSet it does not control', async () => {
    const job = await createJob(randomName('fraud'));
    const key = `${namespace}/${job.metadata.name!}`;
    const labels = podLabels(job);
    let from = enqueued.length;
    // Made first, labelled for another job: one watch delivers in order, so by the time the owned set's event arrives
    // this one's has too, and it named no job (the owner reference decides, not the label).
    await createStatefulSet(randomName('unowned'), { ...labels, [jobLabel]: 'another-job' }, undefined);
    const statefulSet = await createStatefulSet(job.metadata.name!, labels, job);
    // Created, then (as the StatefulSet controller writes its status) updated: the same key each time.
    expect(new Set(await enqueuedAfter(from, key))).toEqual(new Set([key]));

    from = enqueued.length;
    await apps.patchNamespacedStatefulSet({ namespace, name: statefulSet.metadata!.name!, body: annotate }, mergePatchOptions);
    expect(new Set(await enqueuedAfter(from, key))).toEqual(new Set([key]));
  });

  it('enqueues the job when one of its runtime pods is created, changes and is deleted', async () => {
    const job = await createJob(randomName('fraud'));
    const key = `${namespace}/${job.metadata.name!}`;
    const podName = `${job.metadata.name!}-0`;
    let from = enqueued.length;
    await createPod(podName, podLabels(job));
    await enqueuedAfter(from, key);

    from = enqueued.length;
    await core.patchNamespacedPod({ namespace, name: podName, body: annotate }, mergePatchOptions);
    await enqueuedAfter(from, key);

    from = enqueued.length;
    await core.deleteNamespacedPod({ namespace, name: podName, gracePeriodSeconds: 0 });
    await enqueuedAfter(from, key);
  });
});
