// The Kubernetes control plane without nodes (etcd, kube-apiserver, kube-controller-manager), run the way envtest runs it.
import { accessSync, constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKubeCerts, kubeCertPaths, type KubeCerts } from './kube-certs.js';
import { daemonPid, pinnedVersion, portFrom, startDaemon, stopDaemon, waitForDaemon, type EnvPaths } from './proc.js';
import type { KubeEndpoint, Service } from './service.js';

const installScript = fileURLToPath(new URL('../install/kube.sh', import.meta.url));

/** The controllers that turn workloads into Pods and keep namespaces and ownership tidy; no node or cloud controllers. */
const controllers = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
];

interface KubeLayout {
  bin: string;
  dir: string;
  pki: string;
  certs: KubeCerts;
  kubeconfig: string;
  etcdPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  kcmPort: number;
}

function kubeVersion(): string {
  return pinnedVersion(installScript, 'KUBE_VERSION');
}

function layout(paths: EnvPaths): KubeLayout {
  const dir = join(paths.run, 'kube');
  const pki = join(dir, 'pki');
  return {
    bin: join(paths.cache, 'kube', kubeVersion(), 'bin'),
    dir,
    pki,
    certs: kubeCertPaths(pki),
    kubeconfig: join(dir, 'admin.kubeconfig'),
    etcdPort: portFrom('SLUICE_ETCD_PORT', 12379),
    etcdPeerPort: portFrom('SLUICE_ETCD_PEER_PORT', 12380),
    apiserverPort: portFrom('SLUICE_APISERVER_PORT', 16443),
    kcmPort: portFrom('SLUICE_KCM_PORT', 16257),
  };
}

function endpoint(kube: KubeLayout): KubeEndpoint {
  return { kubeconfig: kube.kubeconfig, server: `https://127.0.0.1:${kube.apiserverPort}` };
}

/** Resolves to the HTTP status of a GET, or 0 when nothing answers. */
function status(url: string, tls: RequestOptions = {}): Promise<number> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const request = get(url, { ...tls, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(0));
  });
}

async function etcdHealthy(kube: KubeLayout): Promise<boolean> {
  return (await status(`http://127.0.0.1:${kube.etcdPort}/health`)) === 200;
}

/** Asks with the admin certificate: an apiserver on our port that does not trust our CA is not ours. */
async function apiserverReady(kube: KubeLayout): Promise<boolean> {
  const tls = { ca: readFileSync(kube.certs.caCert), cert: readFileSync(kube.certs.adminCert), key: readFileSync(kube.certs.adminKey) };
  return (await status(`${endpoint(kube).server}/readyz`, tls)) === 200;
}

/** The controller-manager serves with a self-signed certificate; /healthz needs no credentials. */
async function kcmHealthy(kube: KubeLayout): Promise<boolean> {
  return (await status(`https://127.0.0.1:${kube.kcmPort}/healthz`, { rejectUnauthorized: false })) === 200;
}

interface Component {
  name: string;
  healthy(kube: KubeLayout): Promise<boolean>;
  args(kube: KubeLayout): string[];
  port(kube: KubeLayout): number;
  portVariable: string;
  timeoutMs: number;
}

const etcd: Component = {
  name: 'etcd',
  healthy: etcdHealthy,
  port: (kube) => kube.etcdPort,
  portVariable: 'SLUICE_ETCD_PORT',
  args: (kube) => [
    '--name=sluice',
    `--data-dir=${join(kube.dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${kube.etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${kube.etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${kube.etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${kube.etcdPeerPort}`,
    `--initial-cluster=sluice=http://127.0.0.1:${kube.etcdPeerPort}`,
    // Test data need not survive a power cut; fsync dominates apiserver write latency.
    '--unsafe-no-fsync=true',
  ],
  timeoutMs: 30_000,
};

const apiserver: Component = {
  name: 'kube-apiserver',
  healthy: apiserverReady,
  port: (kube) => kube.apiserverPort,
  portVariable: 'SLUICE_APISERVER_PORT',
  args: (kube) => [
    `--etcd-servers=http://127.0.0.1:${kube.etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The `kubernetes` Service's Endpoints may not hold a loopback address, and no Pod here reaches the apiserver through it.
    '--endpoint-reconciler-type=none',
    `--secure-port=${kube.apiserverPort}`,
    `--cert-dir=${join(kube.dir, 'apiserver')}`,
    `--tls-cert-file=${kube.certs.apiserverCert}`,
    `--tls-private-key-file=${kube.certs.apiserverKey}`,
    `--client-ca-file=${kube.certs.caCert}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // As envtest: Pods need no ServiceAccount to exist, so tests may create Pods in a fresh namespace at once.
    '--disable-admission-plugins=ServiceAccount',
    `--service-account-issuer=${endpoint(kube).server}/`,
    `--service-account-key-file=${kube.certs.saPub}`,
    `--service-account-signing-key-file=${kube.certs.saKey}`,
    // The real node (real-node.ts): its Node name has no DNS entry, so logs, exec and port-forward go to its InternalIP.
    '--kubelet-preferred-address-types=InternalIP',
    // The real node's MutatingAdmissionPolicy gives the pods of its namespaces its scheduler and their ServiceAccount token (the
    // ServiceAccount admission plugin stays off for the process kubelets); without a policy these change nothing.
    '--feature-gates=MutatingAdmissionPolicy=true',
    '--runtime-config=admissionregistration.k8s.io/v1beta1=true',
  ],
  timeoutMs: 90_000,
};

const controllerManager: Component = {
  name: 'kube-controller-manager',
  healthy: kcmHealthy,
  port: (kube) => kube.kcmPort,
  portVariable: 'SLUICE_KCM_PORT',
  args: (kube) => [
    `--kubeconfig=${kube.kubeconfig}`,
    `--controllers=${controllers.join(',')}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${kube.kcmPort}`,
    `--cert-dir=${join(kube.dir, 'kube-controller-manager')}`,
    `--service-account-private-key-file=${kube.certs.saKey}`,
    `--root-ca-file=${kube.certs.caCert}`,
  ],
  timeoutMs: 60_000,
};

/** Starts a component unless it is healthy already; one still starting from an earlier call is waited for, not doubled. */
async function ensureRunning(paths: EnvPaths, kube: KubeLayout, component: Component): Promise<void> {
  if (await component.healthy(kube)) return;
  if (daemonPid(paths, component.name) === undefined) {
    startDaemon(paths, component.name, join(kube.bin, component.name), component.args(kube));
  }
  // A component that exits (a port in use, a bad flag) fails the start at once instead of at the timeout.
  const what = `${component.name} on port ${component.port(kube)} (if it is taken, set ${component.portVariable})`;
  await waitForDaemon(paths, component.name, what, () => component.healthy(kube), component.timeoutMs);
}

function writeKubeconfig(kube: KubeLayout): void {
  const base64 = (file: string): string => readFileSync(file).toString('base64');
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: sluice
  cluster:
    server: ${endpoint(kube).server}
    certificate-authority-data: ${base64(kube.certs.caCert)}
users:
- name: admin
  user:
    client-certificate-data: ${base64(kube.certs.adminCert)}
    client-key-data: ${base64(kube.certs.adminKey)}
contexts:
- name: sluice
  context:
    cluster: sluice
    user: admin
current-context: sluice
`;
  writeFileSync(kube.kubeconfig, kubeconfig, { mode: 0o600 });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const kube: Service<KubeEndpoint> = {
  name: 'kube',
  async start(paths) {
    const kube = layout(paths);
    ensureKubeCerts(kube.pki);
    writeKubeconfig(kube);
    if ((await apiserverReady(kube)) && (await kcmHealthy(kube))) return endpoint(kube);
    const missing = [etcd, apiserver, controllerManager].map((component) => join(kube.bin, component.name)).filter((binary) => !isExecutable(binary));
    if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run npm run env:install (or bash ${installScript})`);
    await ensureRunning(paths, kube, etcd);
    await ensureRunning(paths, kube, apiserver);
    await ensureRunning(paths, kube, controllerManager);
    return endpoint(kube);
  },
  async stop(paths) {
    for (const component of [controllerManager, apiserver, etcd]) await stopDaemon(paths, component.name);
    // The next start begins with an empty cluster, so objects left by a crashed test do not pile up between runs.
    rmSync(join(paths.run, 'kube', 'etcd'), { recursive: true, force: true });
  },
};
