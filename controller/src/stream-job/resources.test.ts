// The runtime StatefulSet a job deploys: how its pods learn their ordinal, the job, the token, S3 and where to restore from.
import { RUNTIME_ENV, type StreamJob } from '@sluice/crds';
import { changelogTopicResources, statefulSet, type Deployment } from './resources.js';

const job = {
  apiVersion: 'sluice.dev/v1alpha1',
  kind: 'StreamJob',
  metadata: { name: 'fraud', namespace: 'payments', uid: 'u-1', generation: 3 },
  spec: {
    sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }],
    sinks: [{ name: 'out', stdout: {} }],
    checkpoints: { location: 's3://state/fraud', interval: '1m' },
    connections: {
      s3: { endpoint: 'http://minio:9000', forcePathStyle: true, credentialsSecretRef: { name: 's3' } },
      redis: { url: 'redis://redis:6379' },
      postgres: { url: 'postgres://sluice@postgres:5432/features', passwordSecretRef: { name: 'features-db', key: 'password' } },
    },
    resources: { limits: { cpu: 2, memory: '1Gi' } },
  },
} as unknown as StreamJob;

const deployment: Deployment = { spec: job.spec, hash: 'abc123', generation: 3, replicas: 2, restoreFrom: 's3://state/fraud/savepoints/sp-1' };
const defaults = { image: 'ghcr.io/sluice/sluice-runtime:0.1.0', kafkaBrokers: ['kafka:9092'] };

describe('the runtime StatefulSet', () => {
  const set = statefulSet(job, deployment, defaults);
  const container = set.spec!.template.spec!.containers[0]!;
  const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? variable.valueFrom]));

  it('starts pods in parallel and lets the controller replace them (OnDelete)', () => {
    expect(set.spec).toMatchObject({ replicas: 2, podManagementPolicy: 'Parallel', updateStrategy: { type: 'OnDelete' }, serviceName: 'fraud' });
    expect(set.metadata?.ownerReferences).toEqual([
      { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', name: 'fraud', uid: 'u-1', controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('tells each pod its ordinal from the pod-index label, the parallelism, the brokers and the token Secret', () => {
    expect(env.SLUICE_POD_ORDINAL).toEqual({ fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } });
    expect(env).toMatchObject({
      SLUICE_PARALLELISM: '2',
      SLUICE_KAFKA_BROKERS: 'kafka:9092',
      SLUICE_JOB_FILE: '/etc/sluice/job/job.yaml',
      SLUICE_APPLICATION_ID: 'payments.fraud',
    });
    expect(env.SLUICE_CONTROL_TOKEN).toEqual({ secretKeyRef: { name: 'fraud-control', key: 'token' } });
  });

  it('passes S3, Redis, PostgreSQL, the checkpoint interval and the savepoint to restore from', () => {
    expect(env).toMatchObject({
      SLUICE_SNAPSHOT_LOCATION: 's3://state/fraud',
      SLUICE_SAVEPOINT_LOCATION: 's3://state/fraud',
      SLUICE_CHECKPOINT_INTERVAL: '1m',
      SLUICE_S3_ENDPOINT: 'http://minio:9000',
      SLUICE_S3_FORCE_PATH_STYLE: 'true',
      SLUICE_REDIS_URL: 'redis://redis:6379',
      SLUICE_RESTORE_FROM: 's3://state/fraud/savepoints/sp-1',
    });
    expect(env.AWS_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: 's3', key: 'accessKeyId' } });
    expect(env.SLUICE_POSTGRES_URL).toBe('postgres://sluice@postgres:5432/features');
    // The password reaches the pod from its Secret, never through the pod spec's text.
    expect(env.SLUICE_POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: 'features-db', key: 'password' } });
    expect(container.resources).toEqual({ limits: { cpu: '2', memory: '1Gi' } });
  });

  it('sets only variables of the environment contract the runtime reads, and each of them', () => {
    // The settings the job above leaves out: a stateless upgrade's marker (instead of a savepoint), an S3 region, a Kafka Secret and a mask key.
    const other: Deployment = {
      ...deployment,
      spec: {
        ...job.spec,
        connections: {
          s3: { region: 'eu-west-1' },
          kafka: { bootstrapServers: 'kafka:9093', secretRef: { name: 'kafka-client' } },
          schemaRegistry: { url: 'https://sluice-registry:8081', basicAuthSecretRef: { name: 'fraud-registry' }, caSecretRef: { name: 'registry-ca' } },
        },
        pipeline: [{ mask: { fields: [{ field: 'card_number', with: 'hmac' }], keySecretRef: { name: 'pii-mask-key', key: 'key' } } }],
      },
      restoreFrom: undefined,
      discardState: '3',
    };
    const stateless = statefulSet(job, other, defaults).spec!.template.spec!.containers[0]!;
    const names = [...container.env!, ...stateless.env!].map((variable) => variable.name).filter((name) => name.startsWith('SLUICE_'));
    expect([...new Set(names)].sort()).toEqual(Object.values(RUNTIME_ENV).sort());
  });

  it('gives the pods the registry user and CA from their Secrets, never their values, and none to a job without them', () => {
    const withRegistry: Deployment = {
      ...deployment,
      spec: { ...job.spec, connections: { schemaRegistry: { basicAuthSecretRef: { name: 'fraud-registry' }, caSecretRef: { name: 'registry-ca' } } } },
    };
    const variables = statefulSet(job, withRegistry, defaults).spec!.template.spec!.containers[0]!.env!;
    expect(variables.filter((variable) => variable.name.startsWith('SLUICE_REGISTRY_'))).toEqual([
      { name: 'SLUICE_REGISTRY_USER', valueFrom: { secretKeyRef: { name: 'fraud-registry', key: 'username' } } },
      { name: 'SLUICE_REGISTRY_PASSWORD', valueFrom: { secretKeyRef: { name: 'fraud-registry', key: 'password' } } },
      { name: 'SLUICE_REGISTRY_CA', valueFrom: { secretKeyRef: { name: 'registry-ca', key: 'ca.crt' } } },
    ]);
    expect(Object.keys(env).filter((name) => name.startsWith('SLUICE_REGISTRY_'))).toEqual([]);
  });

  it("gives the pods the mask steps' key from its Secret, never its value, and no key variable to a job without one", () => {
    const masked: Deployment = {
      ...deployment,
      spec: {
        ...job.spec,
        pipeline: [
          { filter: 'amount > 0' },
          { mask: { fields: [{ field: 'email', with: 'redact' }] } },
          { mask: { fields: [{ field: 'card_number', with: 'tokenise' }], keySecretRef: { name: 'pii-mask-key', key: 'key' } } },
        ],
      },
    };
    const variables = statefulSet(job, masked, defaults).spec!.template.spec!.containers[0]!.env!;
    expect(variables.filter((variable) => variable.name === RUNTIME_ENV.maskKey)).toEqual([
      { name: 'SLUICE_MASK_KEY', valueFrom: { secretKeyRef: { name: 'pii-mask-key', key: 'key' } } },
    ]);
    expect(env.SLUICE_MASK_KEY).toBeUndefined();
  });

  it("puts the tail of a failed runtime's log into its termination message, for the StreamJob's status", () => {
    expect(container.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('mounts the ConfigMap of this spec and marks the template with the spec hash, so a new spec is a new revision', () => {
    expect(set.spec!.template.spec!.volumes).toContainEqual({ name: 'job', configMap: { name: 'fraud-job-abc123' } });
    expect(set.spec!.template.metadata!.annotations).toMatchObject({ 'sluice.dev/spec-hash': 'abc123', 'sluice.dev/generation': '3' });
  });
});

describe('the controller default snapshot location', () => {
  it('gives each job a folder of its own under it', () => {
    const withoutLocation = { ...job, spec: { ...job.spec, checkpoints: undefined } } as unknown as StreamJob;
    const set = statefulSet(withoutLocation, { ...deployment, spec: withoutLocation.spec }, { ...defaults, snapshotLocation: 's3://sluice-state/' });
    const env = Object.fromEntries((set.spec!.template.spec!.containers[0]!.env ?? []).map((variable) => [variable.name, variable.value]));
    expect(env.SLUICE_SNAPSHOT_LOCATION).toBe('s3://sluice-state/payments/fraud');
    expect(env.SLUICE_SAVEPOINT_LOCATION).toBe('s3://sluice-state/payments/fraud');
  });
});

describe('changelog Topics', () => {
  it('one compacted topic per stateful operator, as many partitions as the source, deleted with the job', () => {
    const [topic] = changelogTopicResources(job, ['velocity'], 6);
    expect(topic).toMatchObject({
      kind: 'Topic',
      metadata: { name: 'payments.fraud-velocity-changelog', namespace: 'payments' },
      spec: { topicName: 'payments.fraud-velocity-changelog', partitions: 6, deletionPolicy: 'delete' },
    });
    expect(topic!.spec.config?.['cleanup.policy']).toBe('compact');
  });
});
