// spec.state.volumeClaimTemplate on the real API server: the StatefulSet gets the claim, and a changed claim template (immutable in a StatefulSet) recreates the StatefulSet instead of failing.
import { AppsV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import type { StreamJob, VolumeClaimTemplate } from '@sluice/crds';
import { JobObjects } from '../../controller/src/stream-job/job-objects.js';
import { eventually } from '../env/src/eventually.js';
import { installCrds } from './install-crds.js';
import { core, createJob, endpoints, kubeconfig, uniqueName } from './stream-job/harness.js';

const apps = kubeconfig.makeApiClient(AppsV1Api);
const objects = new JobObjects(kubeconfig, { image: 'ghcr.io/sluice/sluice-runtime:0.1.0', kafkaBrokers: endpoints.kafka.brokers });
const namespace = uniqueName('sj-claims');

beforeAll(async () => {
  await installCrds(kubeconfig);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

const claim = (storage: string): VolumeClaimTemplate => ({ spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } });

/** Deploys as the reconciler does, retrying as its work queue would while the replaced StatefulSet is still being deleted. */
async function deployed(job: StreamJob, hash: string, state: StreamJob['spec']['state']): Promise<V1StatefulSet> {
  const spec = { ...job.spec, state };
  await eventually(
    `StatefulSet of ${hash} written`,
    () =>
      objects.deploy(job, { spec, hash, generation: 1, replicas: 1 }).then(
        () => true,
        () => undefined,
      ),
    60_000,
    250,
  );
  return apps.readNamespacedStatefulSet({ namespace, name: job.metadata.name! });
}

describe('a StreamJob whose state is on a PersistentVolumeClaim', () => {
  it('gets a StatefulSet claim named state, and a change of claim template replaces the StatefulSet', async () => {
    const name = uniqueName('claims');
    const job = await createJob(namespace, {
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'StreamJob',
      metadata: { name },
      spec: {
        sources: [{ name: 'transactions', kafka: { topic: `${name}-txn` } }],
        sinks: [{ name: 'out', stdout: {} }],
        state: { volumeClaimTemplate: claim('1Gi') },
      },
    });

    const first = await deployed(job, 'a', { volumeClaimTemplate: claim('1Gi') });
    expect(first.spec?.volumeClaimTemplates?.map((template) => [template.metadata?.name, template.spec?.resources?.requests?.storage])).toEqual([
      ['state', '1Gi'],
    ]);
    expect(first.spec?.template.spec?.volumes?.map((volume) => volume.name)).toEqual(['job', 'tmp']);

    const bigger = await deployed(job, 'b', { volumeClaimTemplate: claim('2Gi') });
    expect(bigger.metadata?.uid).not.toBe(first.metadata?.uid);
    expect(bigger.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage).toBe('2Gi');

    const onEmptyDir = await deployed(job, 'c', {});
    expect(onEmptyDir.metadata?.uid).not.toBe(bigger.metadata?.uid);
    expect(onEmptyDir.spec?.volumeClaimTemplates ?? []).toEqual([]);
    expect(onEmptyDir.spec?.template.spec?.volumes).toContainEqual({ name: 'state', emptyDir: {} });
  }, 240_000);
});
