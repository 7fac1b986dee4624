// The runtime pod a bank can run: the restricted Pod Security defaults, state and /tmp volumes, and spec.podTemplate merged over them.
import type { StreamJob, StreamJobSpec } from '@sluice/crds';
import { statefulSet, type Deployment } from './resources.js';

const defaults = { image: 'ghcr.io/sluice/sluice-runtime:0.1.0', kafkaBrokers: ['kafka:9092'] };

function deployed(spec: Partial<StreamJobSpec>) {
  const job = {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud', namespace: 'payments', uid: 'u-1', generation: 1 },
    spec: { sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }], sinks: [{ name: 'out', stdout: {} }], ...spec },
  } as unknown as StreamJob;
  const deployment: Deployment = { spec: job.spec, hash: 'abc123', generation: 1, replicas: 2 };
  const set = statefulSet(job, deployment, defaults);
  const pod = set.spec!.template.spec!;
  return { set, pod, runtime: pod.containers.find((container) => container.name === 'runtime')! };
}

describe('a runtime pod without a podTemplate', () => {
  const { set, pod, runtime } = deployed({});

  it('meets the restricted Pod Security profile: non-root 65532, seccomp RuntimeDefault, no privilege escalation, no capabilities', () => {
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(runtime.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('writes only to emptyDirs on a read-only root: the state folder and /tmp, which TMPDIR names', () => {
    expect(pod.volumes).toEqual([
      { name: 'job', configMap: { name: 'fraud-job-abc123' } },
      { name: 'state', emptyDir: {} },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(runtime.volumeMounts).toEqual([
      { name: 'job', mountPath: '/etc/sluice/job', readOnly: true },
      { name: 'state', mountPath: '/var/lib/sluice/state' },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(runtime.env).toContainEqual({ name: 'TMPDIR', value: '/tmp' });
    expect(set.spec!.volumeClaimTemplates).toBeUndefined();
  });
});

describe('a runtime pod with a podTemplate', () => {
  const { pod, runtime } = deployed({
    serviceAccountName: 'fraud-runtime',
    resources: { limits: { cpu: 2 } },
    podTemplate: {
      metadata: { labels: { team: 'payments' } },
      spec: {
        securityContext: { runAsUser: 1000, supplementalGroups: [5000] },
        nodeSelector: { 'node.kubernetes.io/pool': 'streaming' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'streaming', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
          },
        },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { 'sluice.dev/job': 'fraud' } },
          },
        ],
        priorityClassName: 'streaming-critical',
        serviceAccountName: 'ignored-for-spec-service-account',
        imagePullSecrets: [{ name: 'registry-credentials' }],
        volumes: [
          { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          { name: 'ca', secret: { secretName: 'bank-ca' } },
        ],
        containers: [
          {
            name: 'runtime',
            env: [
              { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/bank-ca/ca.crt' },
              { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'site', key: 'region' } } },
            ],
            envFrom: [{ secretRef: { name: 'fraud-secrets' } }],
            volumeMounts: [{ name: 'ca', mountPath: '/etc/bank-ca', readOnly: true }],
            resources: { limits: { cpu: '8' } },
            securityContext: { readOnlyRootFilesystem: false },
          },
          { name: 'log-shipper', image: 'bank/log-shipper:1' },
        ],
      },
    },
  });

  it('lets the user win field by field in the security contexts, keeping the restricted fields they leave out', () => {
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 65532,
      fsGroup: 65532,
      supplementalGroups: [5000],
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(runtime.securityContext).toMatchObject({ readOnlyRootFilesystem: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  it('places the pods by its nodeSelector, tolerations, affinity, topology spread and priority class, and pulls with its secrets', () => {
    expect(pod).toMatchObject({
      nodeSelector: { 'node.kubernetes.io/pool': 'streaming' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'streaming', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
        },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone' }],
      priorityClassName: 'streaming-critical',
      imagePullSecrets: [{ name: 'registry-credentials' }],
    });
  });

  it("adds its env, envFrom and mounts after Sluice's, replaces Sluice's tmp volume with its own and adds the rest", () => {
    const names = (runtime.env ?? []).map((variable) => variable.name);
    expect(names.slice(-2)).toEqual(['NODE_EXTRA_CA_CERTS', 'REGION']);
    expect(names).toContain('SLUICE_CONTROL_TOKEN');
    expect(runtime.envFrom).toEqual([{ secretRef: { name: 'fraud-secrets' } }]);
    expect(runtime.volumeMounts?.at(-1)).toEqual({ name: 'ca', mountPath: '/etc/bank-ca', readOnly: true });
    expect(pod.volumes).toEqual([
      { name: 'job', configMap: { name: 'fraud-job-abc123' } },
      { name: 'state', emptyDir: {} },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'ca', secret: { secretName: 'bank-ca' } },
    ]);
  });

  it('keeps spec.serviceAccountName and spec.resources over the podTemplate, and adds other containers as they are', () => {
    expect(pod.serviceAccountName).toBe('fraud-runtime');
    expect(runtime.resources).toEqual({ limits: { cpu: '2' } });
    expect(pod.containers.map((container) => container.name)).toEqual(['runtime', 'log-shipper']);
    expect(pod.containers[1]).toEqual({ name: 'log-shipper', image: 'bank/log-shipper:1' });
  });
});

describe('state on a PersistentVolumeClaim', () => {
  const claim = { spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } } };
  const { set, pod } = deployed({ state: { volumeClaimTemplate: claim } });

  it('makes the state volume a claim of the StatefulSet instead of an emptyDir', () => {
    expect(set.spec!.volumeClaimTemplates).toEqual([{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'state' }, spec: claim.spec }]);
    expect(pod.volumes?.map((volume) => volume.name)).toEqual(['job', 'tmp']);
  });

  it('records the claim templates on the StatefulSet, so a change to them recreates it (they cannot change in place)', () => {
    expect(JSON.parse(set.metadata!.annotations!['sluice.dev/volume-claim-templates']!)).toEqual(set.spec!.volumeClaimTemplates);
    expect(deployed({}).set.metadata!.annotations!['sluice.dev/volume-claim-templates']).toBeUndefined();
  });
});
