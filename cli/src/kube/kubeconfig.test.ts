// The kubeconfig as kubectl merges it: several files in KUBECONFIG (the first definition of a name and the first
// current-context win), paths relative to the file that names them, --context, and a pod's service account.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadConnection } from './kubeconfig.js';

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-kubeconfig-merge-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function file(path: string, text: string): string {
  const full = join(scratch, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
  return full;
}

describe('loadConnection', () => {
  it('merges the files of KUBECONFIG as kubectl does: the first current-context and the first entry of each name win', () => {
    const team = file(
      'team/config',
      `clusters: [{name: lab, cluster: {server: 'https://team:6443', certificate-authority: ca.crt}}]
users: [{name: me, user: {tokenFile: ../secrets/token}}]
contexts: [{name: lab, context: {cluster: lab, user: me, namespace: team-a}}]
current-context: lab
`,
    );
    const other = file(
      'other/config',
      `clusters: [{name: lab, cluster: {server: 'https://other:6443'}}, {name: prod, cluster: {server: 'https://prod:6443'}}]
users: [{name: me, user: {token: other}}, {name: ops, user: {client-certificate: ops.crt, client-key: /keys/ops.key}}]
contexts: [{name: prod, context: {cluster: prod, user: ops}}]
current-context: prod
`,
    );
    const env = { KUBECONFIG: [team, join(scratch, 'missing'), other].join(delimiter) };
    expect(loadConnection({}, env, scratch)).toEqual({
      context: 'lab',
      cluster: { server: 'https://team:6443', 'certificate-authority': join(scratch, 'team/ca.crt') },
      user: { tokenFile: join(scratch, 'secrets/token') },
      namespace: 'team-a',
    });
    expect(loadConnection({ context: 'prod' }, env, scratch)).toEqual({
      context: 'prod',
      cluster: { server: 'https://prod:6443' },
      user: { 'client-certificate': join(scratch, 'other/ops.crt'), 'client-key': '/keys/ops.key' },
    });
  });

  it('names the contexts there are when --context or the current context is not one of them', () => {
    const config = file('one/config', 'clusters: []\nusers: []\ncontexts: [{name: lab, context: {cluster: lab, user: me}}]\ncurrent-context: gone\n');
    expect(() => loadConnection({ kubeconfig: config, context: 'prod' }, {}, scratch)).toThrow(
      '--context prod is not in the kubeconfig (it has lab); kubectl config get-contexts lists them',
    );
    expect(() => loadConnection({ kubeconfig: config }, {}, scratch)).toThrow(
      `the kubeconfig's current context "gone" is not in the kubeconfig (it has lab); kubectl config get-contexts lists them`,
    );
    expect(() => loadConnection({ kubeconfig: config, context: 'lab' }, {}, scratch)).toThrow(
      `the kubeconfig's context "lab" names no cluster; pick another with kubectl config use-context`,
    );
  });

  it("inside a pod without a kubeconfig, uses the service account's token, CA and namespace", () => {
    const account = join(scratch, 'serviceaccount');
    file('serviceaccount/namespace', 'fraud\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(loadConnection({}, env, join(scratch, 'nowhere'), account)).toEqual({
      context: 'in-cluster',
      cluster: { server: 'https://10.0.0.1:443', 'certificate-authority': join(account, 'ca.crt') },
      user: { tokenFile: join(account, 'token') },
      namespace: 'fraud',
    });
  });
});
