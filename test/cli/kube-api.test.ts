// streamctl's own Kubernetes client (cli/src/kube/api.ts) against the real API server, with each way a kubeconfig
// authenticates: a client certificate in files beside the kubeconfig, a credential plugin (exec), a bearer token and
// a token file; and the API server's certificate checked against the kubeconfig's CA.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { Writable } from 'node:stream';
import { get, type GetArgs } from '../../cli/src/index.js';
import { KubeApi, KubeApiError, resourcePath } from '../../cli/src/kube/api.js';
import { loadConnection } from '../../cli/src/kube/kubeconfig.js';
import { capture, createJob, kubeconfigFile, prepareNamespace, removeNamespace } from '../e2e/streamctl/harness.js';

const admin = parse(readFileSync(kubeconfigFile, 'utf8')) as {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
};
const server = admin.clusters[0]!.cluster.server;
const pem = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');
const caPem = pem(admin.clusters[0]!.cluster['certificate-authority-data']);
const certificatePem = pem(admin.users[0]!.user['client-certificate-data']);
const keyPem = pem(admin.users[0]!.user['client-key-data']);

const client = new KubeConfig();
client.loadFromFile(kubeconfigFile);
const core = client.makeApiClient(CoreV1Api);

let scratch: string;
let namespace: string;
let jobName: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-kube-api-'));
  namespace = await prepareNamespace('streamctl-api');
  jobName = (await createJob(namespace, 'auth')).metadata.name!;
});

afterAll(async () => {
  await removeNamespace(namespace);
  rmSync(scratch, { recursive: true, force: true });
});

/** A kubeconfig file with one context of this cluster (`cluster` and `user` are its entries) in namespace. */
function kubeconfigWith(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(scratch, name);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'lab', cluster: { server, ...cluster } }],
      users: [{ name: 'someone', user }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'someone', namespace } }],
      'current-context': 'lab',
    }),
  );
  return file;
}

async function getWith(kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const args: GetArgs = { kubeconfig, 'all-namespaces': false, output: 'name' };
  const code = await get(args, out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

describe("streamctl's Kubernetes client", () => {
  it('reads a CA, client certificate and key from files named relative to the kubeconfig', async () => {
    writeFileSync(join(scratch, 'ca.crt'), caPem);
    writeFileSync(join(scratch, 'admin.crt'), certificatePem);
    writeFileSync(join(scratch, 'admin.key'), keyPem);
    const file = kubeconfigWith('files.yaml', { 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' });
    expect(await getWith(file)).toEqual({ code: 0, stdout: `streamjob.sluice.dev/${jobName}\n`, stderr: '' });
  });

  it('runs a credential plugin (exec) with KUBERNETES_EXEC_INFO and uses the client certificate it prints', async () => {
    const plugin = join(scratch, 'plugin.mjs');
    const seen = join(scratch, 'exec-info.json');
    writeFileSync(
      plugin,
      `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(seen)}, process.env.KUBERNETES_EXEC_INFO ?? '');
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
  status: { clientCertificateData: ${JSON.stringify(certificatePem)}, clientKeyData: ${JSON.stringify(keyPem)} } }));
`,
    );
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin], interactiveMode: 'Never' };
    const file = kubeconfigWith('exec.yaml', { 'certificate-authority-data': admin.clusters[0]!.cluster['certificate-authority-data'] }, { exec });
    expect(await getWith(file)).toEqual({ code: 0, stdout: `streamjob.sluice.dev/${jobName}\n`, stderr: '' });
    expect(JSON.parse(readFileSync(seen, 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('sends a bearer token, from the kubeconfig or its tokenFile: the API server knows the service account (and refuses it, as RBAC grants it nothing)', async () => {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    const { status } = await core.createNamespacedServiceAccountToken({ namespace, name: 'reader', body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const token = status!.token;
    writeFileSync(join(scratch, 'token'), `${token}\n`);
    const ca = { 'certificate-authority-data': admin.clusters[0]!.cluster['certificate-authority-data'] };
    const refused = `streamctl get: not allowed: streamjobs.sluice.dev is forbidden: User "system:serviceaccount:${namespace}:reader" cannot list resource "streamjobs" in API group "sluice.dev" in the namespace "${namespace}"`;
    for (const file of [kubeconfigWith('token.yaml', ca, { token }), kubeconfigWith('token-file.yaml', ca, { tokenFile: 'token' })]) {
      const ran = await getWith(file);
      expect({ code: ran.code, stderr: ran.stderr.split(';')[0] }).toEqual({ code: 1, stderr: refused });
    }
  });

  it("checks the API server's certificate against the kubeconfig's CA, and says why it cannot connect when it is not", async () => {
    const file = kubeconfigWith(
      'no-ca.yaml',
      {},
      { 'client-certificate-data': admin.users[0]!.user['client-certificate-data'], 'client-key-data': admin.users[0]!.user['client-key-data'] },
    );
    const ran = await getWith(file);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(new RegExp(`^streamctl get: cannot reach the API server at ${server}: .*certificate.*; check --kubeconfig`));
  });

  it("streams a response into a writer until the API server ends it (as logs -f does), and an error status as the API server's Status", async () => {
    const api = new KubeApi(loadConnection({ kubeconfig: kubeconfigFile }, {}, scratch));
    let text = '';
    const into = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    // A watch the API server closes after a second: one ADDED event per job, then the end.
    const jobs = resourcePath({ group: 'sluice.dev', version: 'v1alpha1', namespace, plural: 'streamjobs' });
    await api.stream(jobs, { watch: true, timeoutSeconds: 1 }, into);
    expect(
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; object: { metadata: { name: string } } })
        .map((event) => [event.type, event.object.metadata.name]),
    ).toEqual([['ADDED', jobName]]);
    const log = resourcePath({ group: '', version: 'v1', namespace, plural: 'pods', name: 'no-such-pod', subresource: 'log' });
    const refused = await api.stream(log, {}, new Writable()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect(refused).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound', message: 'pods "no-such-pod" not found' } });
  });
});
