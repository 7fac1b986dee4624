// A StreamJob in a namespace that enforces the Pod Security "restricted" profile, on the real API server: its pods are admitted and run, and its podTemplate's tolerations, env from a ConfigMap and volumes reach them.
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { eventually } from '../env/src/eventually.js';
import { core, createJob, fraudJob, jobPods, jobTest, readResults, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-restricted');

beforeAll(async () => {
  const { namespace } = setup.world;
  const current = await core.readNamespace({ name: namespace });
  current.metadata!.labels = {
    ...current.metadata!.labels,
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  };
  await core.replaceNamespace({ name: namespace, body: current });
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'site' }, data: { region: 'eu-west-1' } } });
});

describe('a StreamJob in a namespace enforcing the restricted Pod Security profile', () => {
  it("runs the job's pods there, with the podTemplate's tolerations, env and volumes, and they produce results", async () => {
    // The namespace does enforce the profile: a pod without the restricted securityContext is refused.
    const bare: V1Pod = { metadata: { name: 'bare' }, spec: { containers: [{ name: 'main', image: 'ghcr.io/sluice/sluice-runtime:0.1.0' }] } };
    const refusal = await core.createNamespacedPod({ namespace: setup.world.namespace, body: bare, dryRun: 'All' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ApiException);
    expect((refusal as ApiException<unknown>).code).toBe(403);
    const { body } = refusal as ApiException<unknown>;
    const message = typeof body === 'string' ? body : JSON.stringify(body);
    expect(message).toContain('violates PodSecurity');
    expect(message).toContain('restricted:latest');

    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    const job = fraudJob(name, topics, world);
    job.spec.podTemplate = {
      metadata: { labels: { team: 'payments' } },
      spec: {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'streaming', effect: 'NoSchedule' }],
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '64Mi' } }],
        containers: [
          {
            name: 'runtime',
            env: [{ name: 'REGION', valueFrom: { configMapKeyRef: { name: 'site', key: 'region' } } }],
            envFrom: [{ prefix: 'SITE_', configMapRef: { name: 'site' } }],
            volumeMounts: [{ name: 'scratch', mountPath: '/var/scratch' }],
          },
        ],
      },
    };
    await feed.produce(300);
    await createJob(namespace, job);

    await waitForPhase(namespace, name, 'Running', 1);
    const pods = await jobPods(namespace, name);
    expect(pods.map((pod) => pod.metadata?.name).sort()).toEqual([`${name}-0`, `${name}-1`]);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.metadata?.labels).toMatchObject({ team: 'payments', 'sluice.dev/job': name });
      expect(pod.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      const runtime = pod.spec!.containers.find((container) => container.name === 'runtime')!;
      expect(runtime.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.spec?.tolerations).toContainEqual({ key: 'dedicated', operator: 'Equal', value: 'streaming', effect: 'NoSchedule' });
      expect(runtime.env).toContainEqual({ name: 'REGION', valueFrom: { configMapKeyRef: { name: 'site', key: 'region' } } });
      expect(runtime.envFrom).toEqual([{ prefix: 'SITE_', configMapRef: { name: 'site' } }]);
      expect(pod.spec?.volumes).toContainEqual({ name: 'scratch', emptyDir: { sizeLimit: '64Mi' } });
      expect(runtime.volumeMounts).toContainEqual({ name: 'scratch', mountPath: '/var/scratch' });
    }
    await eventually('the first results, read from Kafka', async () => ((await readResults(topics.output)).length > 0 ? true : undefined), 120_000, 500);
  }, 420_000);
});
