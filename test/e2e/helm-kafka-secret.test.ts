// The chart's kafka.secretName: the Kafka Secret mounted read-only into the controller and the registry, whose --kafka-secret-dir points at it.
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { helm } from '../env/src/helm.js';

const chartDir = fileURLToPath(new URL('../../charts/sluice/', import.meta.url));

async function deployments(values: Record<string, string>): Promise<V1Deployment[]> {
  const sets = Object.entries({ 'kafka.bootstrap': 'kafka:9093', 'registry.enabled': 'true', ...values }).flatMap(([key, value]) => [
    '--set',
    `${key}=${value}`,
  ]);
  const rendered = await helm(['template', 'sluice', chartDir, '--namespace', 'sluice-system', ...sets]);
  return (loadAllYaml(rendered) as (KubernetesObject | null)[]).filter((object): object is V1Deployment => object?.kind === 'Deployment');
}

describe('the chart’s Kafka Secret', () => {
  it('mounts kafka.secretName into the controller and the registry and points --kafka-secret-dir at it', async () => {
    const withSecret = await deployments({ 'kafka.secretName': 'sluice-kafka' });
    expect(withSecret.map((deployment) => deployment.metadata?.name).sort()).toEqual(['sluice-controller', 'sluice-registry']);
    for (const deployment of withSecret) {
      const pod = deployment.spec!.template.spec!;
      const container = pod.containers[0]!;
      expect(pod.volumes).toContainEqual({ name: 'kafka-credentials', secret: { secretName: 'sluice-kafka' } });
      expect(container.volumeMounts).toContainEqual({ name: 'kafka-credentials', mountPath: '/var/run/secrets/sluice/kafka', readOnly: true });
      expect(container.args).toContain('--kafka-secret-dir=/var/run/secrets/sluice/kafka');
    }

    // Without one, nothing is mounted and the clients speak plaintext.
    for (const deployment of await deployments({})) {
      expect(JSON.stringify(deployment)).not.toMatch(/kafka-credentials|kafka-secret-dir/);
    }
  });
});
