// The chart's NetworkPolicies (who may reach the controller, the registry and the runtime pods) and the registry's users and TLS, as `helm template` renders them.
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Deployment, V1NetworkPolicy } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { helm } from '../env/src/helm.js';

const chartDir = fileURLToPath(new URL('../../charts/sluice/', import.meta.url));

async function render(values: Record<string, string>): Promise<KubernetesObject[]> {
  const sets = Object.entries({ 'kafka.bootstrap': 'kafka:9093', 'registry.enabled': 'true', ...values }).flatMap(([key, value]) => [
    '--set',
    `${key}=${value}`,
  ]);
  const rendered = await helm(['template', 'sluice', chartDir, '--namespace', 'sluice-system', ...sets]);
  // Plain objects, as the API server would receive them (loadAllYaml's classes would not compare equal to literals).
  return parseAllDocuments(rendered)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

const policies = (objects: KubernetesObject[]) => objects.filter((object): object is V1NetworkPolicy => object.kind === 'NetworkPolicy');
const deployment = (objects: KubernetesObject[], name: string) =>
  objects.find((object): object is V1Deployment => object.kind === 'Deployment' && object.metadata?.name === name)!;

const controllerPods = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'sluice-system' } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sluice', 'app.kubernetes.io/instance': 'sluice', 'app.kubernetes.io/component': 'controller' } },
};
const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };

describe('the chart’s NetworkPolicies', () => {
  it('admits the runtime port of each watched namespace’s StreamJob pods only from the controller and the metrics namespaces', async () => {
    const objects = await render({ 'controller.watchNamespaces': '{payments,fraud}' });
    const runtime = policies(objects).filter((policy) => policy.metadata?.name === 'sluice-runtime');
    expect(runtime.map((policy) => policy.metadata?.namespace)).toEqual(['payments', 'fraud']);
    for (const policy of runtime) {
      expect(policy.spec).toEqual({
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sluice-runtime' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [controllerPods, monitoring], ports: [{ port: 'http', protocol: 'TCP' }] }],
      });
    }
  });

  it('admits the registry from the controller, runtime pods and labelled clients, and the controller’s metrics from the metrics namespaces', async () => {
    const objects = await render({ 'networkPolicies.metricsNamespaceSelector.matchLabels.team': 'observability' });
    const byName = new Map(policies(objects).map((policy) => [policy.metadata?.name, policy.spec]));
    expect([...byName.keys()].sort()).toEqual(['sluice-controller', 'sluice-registry']);
    expect(byName.get('sluice-registry')?.ingress).toEqual([
      {
        from: [
          controllerPods,
          { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sluice-runtime' } } },
          { namespaceSelector: {}, podSelector: { matchLabels: { 'sluice.dev/registry-client': 'true' } } },
        ],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
    expect(byName.get('sluice-controller')?.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'observability' } } }],
        ports: [{ port: 'metrics', protocol: 'TCP' }],
      },
    ]);
  });

  it('renders none with networkPolicies.enabled=false', async () => {
    expect(policies(await render({ 'networkPolicies.enabled': 'false', 'controller.watchNamespaces': '{payments}' }))).toEqual([]);
  });
});

describe('the chart’s registry users and TLS', () => {
  it('mounts the users and the certificate into the registry, probes it over HTTPS, and gives the controller its user and CA from Secrets', async () => {
    const objects = await render({
      'registry.auth.usersSecretName': 'registry-users',
      'registry.auth.clientSecretName': 'controller-registry-user',
      'registry.tls.secretName': 'registry-tls',
    });
    const registry = deployment(objects, 'sluice-registry').spec!.template.spec!;
    const server = registry.containers[0]!;
    expect(server.args).toEqual(
      expect.arrayContaining([
        '--users-file=/var/run/secrets/sluice/registry-users/users',
        '--tls-cert=/var/run/secrets/sluice/registry-tls/tls.crt',
        '--tls-key=/var/run/secrets/sluice/registry-tls/tls.key',
      ]),
    );
    expect(registry.volumes).toEqual(
      expect.arrayContaining([
        { name: 'registry-users', secret: { secretName: 'registry-users' } },
        { name: 'registry-tls', secret: { secretName: 'registry-tls' } },
      ]),
    );
    expect(server.readinessProbe?.httpGet).toEqual({ path: '/', port: 'http', scheme: 'HTTPS' });

    const controller = deployment(objects, 'sluice-controller').spec!.template.spec!.containers[0]!;
    expect(controller.args).toContain('--registry-url=https://sluice-registry.sluice-system.svc:8081');
    expect(controller.env).toEqual([
      { name: 'SLUICE_REGISTRY_USER', valueFrom: { secretKeyRef: { name: 'controller-registry-user', key: 'username' } } },
      { name: 'SLUICE_REGISTRY_PASSWORD', valueFrom: { secretKeyRef: { name: 'controller-registry-user', key: 'password' } } },
      { name: 'SLUICE_REGISTRY_CA', valueFrom: { secretKeyRef: { name: 'registry-tls', key: 'ca.crt', optional: true } } },
    ]);
  });

  it('serves plain HTTP to everyone without them', async () => {
    const objects = await render({});
    const server = deployment(objects, 'sluice-registry').spec!.template.spec!.containers[0]!;
    expect(JSON.stringify(server)).not.toMatch(/users-file|tls-|HTTPS/);
    expect(deployment(objects, 'sluice-controller').spec!.template.spec!.containers[0]!.env).toBeUndefined();
  });
});
