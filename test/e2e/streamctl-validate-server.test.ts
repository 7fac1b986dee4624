// streamctl validate --server: the manifests judged by the real API server as a dry-run create (or replace, when the
// object exists), each of its errors printed with its field path, nothing stored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { group, version } from '@sluice/crds';
import { validate, type ValidateArgs } from '../../cli/src/index.js';
import { capture, kubeconfigFile, prepareNamespace, removeNamespace } from './streamctl/harness.js';

const job = fileURLToPath(new URL('../../examples/fraud-velocity/job.yaml', import.meta.url));
let namespace: string;
let scratch: string;

beforeAll(async () => {
  namespace = await prepareNamespace('streamctl-validate');
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-validate-'));
});

afterAll(async () => {
  await removeNamespace(namespace);
  rmSync(scratch, { recursive: true, force: true });
});

const flags = (files: string[], more: Partial<ValidateArgs> = {}): ValidateArgs => ({ files, server: true, kubeconfig: kubeconfigFile, namespace, ...more });

function write(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

const objects = (() => {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigFile);
  return kubeconfig.makeApiClient(CustomObjectsApi);
})();

describe('streamctl validate --server', () => {
  it('passes the fraud example and stores nothing', async () => {
    const out = capture();
    expect(await validate(flags([job]), out.io)).toBe(0);
    expect(out.stdout()).toBe('1 file(s) valid; the API server agrees\n');
    expect(out.stderr()).toBe('');
    const stored = (await objects.listNamespacedCustomObject({ group, version, namespace, plural: 'streamjobs' })) as { items: unknown[] };
    expect(stored.items).toEqual([]);
  });

  it('prints what only the API server can judge: an update rule against the object already stored', async () => {
    await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'topics',
      body: { apiVersion: `${group}/${version}`, kind: 'Topic', metadata: { name: 'payments' }, spec: { partitions: 6 } },
    });
    const fewer = write('topic.yaml', 'apiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata:\n  name: payments\nspec:\n  partitions: 3\n');
    const out = capture();
    expect(await validate(flags([fewer]), out.io)).toBe(1);
    const lines = out.stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${fewer} Topic/payments \\(API server\\): spec\\.partitions: Invalid value: 3: spec\\.partitions may not decrease`));
    expect(lines[1]).toBe('1 problem(s) found; fix the fields named above and run streamctl validate again');
    // Offline, the same file is valid: there is no stored object to compare with.
    const offline = capture();
    expect(await validate(flags([fewer], { server: false }), offline.io)).toBe(0);
  });

  it('reports unknown fields, as strict field validation names them, once', async () => {
    const unknown = write('unknown.yaml', 'apiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata:\n  name: orders\nspec:\n  partitions: 3\n  colour: blue\n');
    const out = capture();
    expect(await validate(flags([unknown]), out.io)).toBe(1);
    const lines = out.stderr().trimEnd().split('\n');
    expect(lines.filter((line) => line.includes('spec.colour'))).toHaveLength(1);
    expect(lines.at(-1)).toBe('1 problem(s) found; fix the fields named above and run streamctl validate again');
  });

  it('says so when the namespace does not exist', async () => {
    const out = capture();
    expect(await validate(flags([job], { namespace: 'no-such-namespace' }), out.io)).toBe(1);
    expect(out.stderr()).toBe(
      'streamctl validate: namespace "no-such-namespace" does not exist: create it with kubectl create namespace no-such-namespace, or pass -n\n',
    );
  });
});
