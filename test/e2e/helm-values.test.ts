// The chart's conventions: values.schema.json refuses a misspelt or mistyped value, and names, images, Pod Security, PodDisruptionBudgets, placement and the aggregated view/edit ClusterRoles render from values.
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject, type V1ClusterRole, type V1Deployment, type V1PodDisruptionBudget } from '@kubernetes/client-node';
import { helm } from '../env/src/helm.js';

const chartDir = fileURLToPath(new URL('../../charts/sluice/', import.meta.url));
const required = { 'kafka.bootstrap': 'kafka:9092' };

/** `helm template sluice` with these --set pairs, as objects. */
async function render(values: Record<string, string>): Promise<KubernetesObject[]> {
  const sets = Object.entries({ ...required, ...values }).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  const rendered = await helm(['template', 'sluice', chartDir, '--namespace', 'sluice-system', ...sets]);
  return (loadAllYaml(rendered) as (KubernetesObject | null)[]).filter((object): object is KubernetesObject => object !== null);
}

function named<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} among ${objects.map((object) => `${object.kind}/${object.metadata?.name}`).join(', ')}`);
  return found as T;
}

describe('values.schema.json', () => {
  it('refuses a misspelt value, naming it', async () => {
    await expect(render({ 'controler.image.tag': 'x' })).rejects.toThrow(/additional properties 'controler' not allowed/);
    await expect(render({ 'controller.image.tga': 'x' })).rejects.toThrow(/additional properties 'tga' not allowed/);
  });

  it('refuses a value of the wrong type or outside its choices', async () => {
    await expect(render({ 'controller.replicas': 'many' })).rejects.toThrow(/controller\/replicas/);
    await expect(render({ 'controller.image.pullPolicy': 'Sometimes' })).rejects.toThrow(/pullPolicy/);
  });

  it('lints clean with --strict, every optional part on', async () => {
    const output = await helm([
      'lint',
      chartDir,
      '--strict',
      ...[
        'kafka.bootstrap=kafka:9092',
        'registry.enabled=true',
        'controller.podDisruptionBudget.enabled=true',
        'registry.podDisruptionBudget.enabled=true',
        'controller.priorityClassName=high',
      ].flatMap((set) => ['--set', set]),
    ]);
    expect(output).toContain('0 chart(s) failed');
    await expect(helm(['lint', chartDir, '--strict', '--set', 'kafka.bootstrap=kafka:9092', '--set', 'registry.enable=true'])).rejects.toThrow(
      /1 chart\(s\) failed/,
    );
  });
});

describe('the rendered chart', () => {
  it("runs each component's image, tagged with the chart's appVersion unless its tag is set, under the restricted Pod Security profile", async () => {
    const objects = await render({
      'registry.enabled': 'true',
      'registry.image.tag': '0.2.0-rc1',
      'controller.image.repository': 'registry.bank.example/sluice/controller',
    });
    const image = (name: string) => named<V1Deployment>(objects, 'Deployment', name).spec!.template.spec!.containers[0]!.image;
    expect(image('sluice-controller')).toBe('registry.bank.example/sluice/controller:0.1.0');
    expect(image('sluice-registry')).toBe('ghcr.io/sluice/sluice-registry:0.2.0-rc1');
    for (const name of ['sluice-controller', 'sluice-registry']) {
      const pod = named<V1Deployment>(objects, 'Deployment', name).spec!.template.spec!;
      expect(pod.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        fsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    }
  });

  it('names everything from nameOverride or fullnameOverride', async () => {
    const renamed = await render({ nameOverride: 'flow' });
    expect(named<V1Deployment>(renamed, 'Deployment', 'sluice-flow-controller').metadata!.labels!['app.kubernetes.io/name']).toBe('flow');
    const full = await render({ fullnameOverride: 'payments-sluice' });
    expect(full.filter((object) => object.metadata?.name?.startsWith('payments-sluice')).map((object) => object.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'ServiceAccount', 'ClusterRole']),
    );
  });

  it('makes a PodDisruptionBudget for each component that asks for one', async () => {
    expect((await render({ 'registry.enabled': 'true' })).some((object) => object.kind === 'PodDisruptionBudget')).toBe(false);
    const objects = await render({
      'registry.enabled': 'true',
      'controller.podDisruptionBudget.enabled': 'true',
      'registry.podDisruptionBudget.enabled': 'true',
      'registry.podDisruptionBudget.maxUnavailable': '1',
    });
    expect(named<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget', 'sluice-controller').spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'sluice', 'app.kubernetes.io/instance': 'sluice', 'app.kubernetes.io/component': 'controller' } },
    });
    expect(named<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget', 'sluice-registry').spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('places every workload by its nodeSelector, tolerations, affinity and priorityClassName', async () => {
    const placement = (component: string) => ({
      [`${component}.priorityClassName`]: 'streaming-critical',
      [`${component}.nodeSelector.pool`]: 'system',
      [`${component}.tolerations[0].key`]: 'dedicated',
      [`${component}.tolerations[0].operator`]: 'Exists',
      [`${component}.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight`]: '1',
    });
    const objects = await render({ 'registry.enabled': 'true', ...placement('controller'), ...placement('registry') });
    for (const name of ['sluice-controller', 'sluice-registry']) {
      expect(named<V1Deployment>(objects, 'Deployment', name).spec!.template.spec).toMatchObject({
        priorityClassName: 'streaming-critical',
        nodeSelector: { pool: 'system' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }] } },
      });
    }
  });

  it('aggregates reading the three kinds into view and changing them into edit, and can be turned off', async () => {
    const objects = await render({});
    const view = named<V1ClusterRole>(objects, 'ClusterRole', 'sluice-view');
    const edit = named<V1ClusterRole>(objects, 'ClusterRole', 'sluice-edit');
    expect(view.metadata!.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
    });
    expect(view.rules![0]).toMatchObject({ apiGroups: ['sluice.dev'], verbs: ['get', 'list', 'watch'] });
    expect(view.rules![0]!.resources).toEqual(expect.arrayContaining(['topics', 'schemasubjects', 'streamjobs']));
    expect(edit.metadata!.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' });
    expect(edit.metadata!.labels!['rbac.authorization.k8s.io/aggregate-to-view']).toBeUndefined();
    expect(edit.rules).toContainEqual({
      apiGroups: ['sluice.dev'],
      resources: ['topics', 'schemasubjects', 'streamjobs'],
      verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
    });
    const off = await render({ 'rbac.aggregateToDefaultRoles': 'false' });
    expect(off.filter((object) => object.kind === 'ClusterRole').map((object) => object.metadata?.name)).toEqual(['sluice-controller']);
  });
});
