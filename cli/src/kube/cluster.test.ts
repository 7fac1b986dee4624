import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from './cluster.js';

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-kubeconfig-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A kubeconfig whose current context names `namespace` (or none). */
function kubeconfigFile(name: string, namespace?: string): string {
  const file = join(scratch, name);
  const context = namespace === undefined ? '{cluster: lab, user: me}' : `{cluster: lab, user: me, namespace: ${namespace}}`;
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: 'https://lab.example:6443'}}]
users: [{name: me, user: {token: t}}]
contexts: [{name: lab, context: ${context}}]
current-context: lab
`,
  );
  return file;
}

describe('connect', () => {
  it('takes the namespace from the kubeconfig context, -n over it, else default', () => {
    const withNamespace = kubeconfigFile('team.yaml', 'team-a');
    expect(connect({ kubeconfig: withNamespace }, {}, scratch)).toMatchObject({ namespace: 'team-a', server: 'https://lab.example:6443' });
    expect(connect({ kubeconfig: withNamespace, namespace: 'other' }, {}, scratch).namespace).toBe('other');
    expect(connect({ kubeconfig: kubeconfigFile('plain.yaml') }, {}, scratch).namespace).toBe('default');
  });

  it('finds the kubeconfig as kubectl does: KUBECONFIG, else ~/.kube/config', () => {
    expect(connect({}, { KUBECONFIG: kubeconfigFile('env.yaml', 'from-env') }, scratch).namespace).toBe('from-env');
    const home = join(scratch, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), readFileSync(kubeconfigFile('home.yaml', 'from-home')));
    expect(connect({}, {}, home).namespace).toBe('from-home');
    expect(() => connect({}, {}, scratch)).toThrow(
      'no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config (kubectl config view shows what kubectl uses)',
    );
  });

  it('names a --kubeconfig that does not exist', () => {
    expect(() => connect({ kubeconfig: join(scratch, 'missing.yaml') }, {}, scratch)).toThrow(
      `--kubeconfig ${join(scratch, 'missing.yaml')} does not exist; pass the path of a kubeconfig file`,
    );
  });
});
