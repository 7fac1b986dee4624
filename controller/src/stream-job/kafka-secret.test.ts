// The Kafka Secret of connections.kafka.secretRef on the runtime pods: mounted as files whose folder an env variable names; the pod spec holds only the Secret's name.
import type { StreamJob } from '@sluice/crds';
import { statefulSet, type Deployment } from './resources.js';

const secretName = 'fraud-kafka-credentials';

function jobWith(kafka: Record<string, unknown> | undefined): StreamJob {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud', namespace: 'payments', uid: 'u-1', generation: 1 },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }],
      sinks: [{ name: 'out', stdout: {} }],
      ...(kafka === undefined ? {} : { connections: { kafka } }),
    },
  } as unknown as StreamJob;
}

const defaults = { image: 'ghcr.io/sluice/sluice-runtime:0.1.0', kafkaBrokers: ['kafka:9092'] };
const podOf = (job: StreamJob) => {
  const deployment: Deployment = { spec: job.spec, hash: 'abc123', generation: 1, replicas: 1 };
  const spec = statefulSet(job, deployment, defaults).spec!.template.spec!;
  const container = spec.containers[0]!;
  const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? variable.valueFrom]));
  return { spec, container, env };
};

describe('the Kafka Secret on runtime pods', () => {
  it('mounts the Secret read-only and tells the runtime where (SLUICE_KAFKA_SECRET_DIR)', () => {
    const { spec, container, env } = podOf(jobWith({ bootstrapServers: 'kafka:9093', secretRef: { name: secretName } }));
    expect(env.SLUICE_KAFKA_BROKERS).toBe('kafka:9093');
    expect(env.SLUICE_KAFKA_SECRET_DIR).toBe('/var/run/secrets/sluice/kafka');
    expect(spec.volumes).toContainEqual({ name: 'kafka-credentials', secret: { secretName } });
    expect(container.volumeMounts).toContainEqual({ name: 'kafka-credentials', mountPath: '/var/run/secrets/sluice/kafka', readOnly: true });

    // A job without a Kafka Secret gets neither the folder nor the volume.
    const plaintext = podOf(jobWith(undefined));
    expect(plaintext.env.SLUICE_KAFKA_SECRET_DIR).toBeUndefined();
    expect(plaintext.spec.volumes?.map((volume) => volume.name)).not.toContain('kafka-credentials');
  });
});
