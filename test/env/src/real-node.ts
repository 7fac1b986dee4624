// A real Kubernetes node beside the test servers: containerd, the CNI bridge, kube-scheduler, kube-proxy and a kubelet on the project's apiserver.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kafkaBridgePort } from './kafka.js';
import { conflictingRoutes, hostAddress, podCidr } from './pod-network.js';
import { daemonPid, pinnedVersion, startDaemon, stopDaemon, tcpOpen, waitFor, waitForDaemon, type EnvPaths } from './proc.js';
import { buildPauseArchive, pauseImage } from './real-node-pause.js';
import type { Endpoints } from './service.js';

const installScript = fileURLToPath(new URL('../install/real-node.sh', import.meta.url));
const kubeInstallScript = fileURLToPath(new URL('../install/kube.sh', import.meta.url));
const forwardScript = fileURLToPath(new URL('./real-node-forward.mjs', import.meta.url));

/** What a test needs to put a Pod on the real node; written to `<run>/real-node/node.json`. */
export interface RealNode {
  /** The Node's name. */
  node: string;
  /** Pods that set `spec.schedulerName` to this are scheduled onto the real node, and only those. */
  schedulerName: string;
  /** The node label the scheduler profile requires (`sluice.dev/real-node=true`). */
  nodeLabel: { key: string; value: string };
  /** The bridge address on which pods reach the host: the apiserver, S3, Redis and PostgreSQL listen there too (forwarded). */
  hostAddress: string;
  /** The containerd socket, for `ctr -n k8s.io images import` of locally built images. */
  containerdSocket: string;
  /** The shared Kafka broker as pods reach it: its BRIDGE listener, which advertises this address (forwarded like the others). */
  kafkaBootstrap: string;
  /**
   * Every Pod created in a namespace with this label gets, from the node's MutatingAdmissionPolicy, what a cloud cluster would give
   * it: this node's scheduler, its ServiceAccount's token (ServiceAccount admission is off on the test apiserver) and the test S3's
   * endpoint and credentials as AWS_* variables (as a pod identity would).
   */
  namespaceLabel: { key: string; value: string };
}

const node = 'sluice-real-node';
const schedulerName = 'sluice-real-node';
const nodeLabel = { key: 'sluice.dev/real-node', value: 'true' };
const bridge = 'sluice0';
const containerdSocket = '/run/containerd/containerd.sock';
const schedulerPort = 26259;
const kubeProxyHealthPort = 26256;
const kubeProxyMetricsPort = 26249;
const kubeletHealthPort = 26248;
const kubeletPort = 10250;
const endpointSliceName = 'kubernetes-sluice-real-node';
const admissionPolicyName = 'sluice-real-node';
const namespaceLabel = { key: 'sluice.dev/real-node', value: 'true' };

/**
 * Host-wide sysctls the kubelet (protectKernelDefaults: false) or this node sets; their old values are saved at the first start and put back
 * by stop. The kubelet writes vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops and the root key quotas.
 */
const hostSysctls = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.bridge.bridge-nf-call-iptables',
];

interface Layout {
  dir: string;
  bin: string;
  kubeconfig: string;
  sysctlBackup: string;
  /** Present from the first change to the host until stop has put everything back. */
  hostChanged: string;
  nodeFile: string;
  kubeletRoot: string;
}

function layout(paths: EnvPaths): Layout {
  const dir = join(paths.run, 'real-node');
  return {
    dir,
    bin: join(paths.cache, 'kube', pinnedVersion(kubeInstallScript, 'KUBE_VERSION'), 'bin'),
    kubeconfig: join(paths.run, 'kube', 'admin.kubeconfig'),
    sysctlBackup: join(dir, 'sysctl.orig'),
    hostChanged: join(dir, 'host-changed'),
    nodeFile: join(dir, 'node.json'),
    kubeletRoot: join(dir, 'kubelet'),
  };
}

function command(file: string, args: string[], options: { allowFailure?: boolean } = {}): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (options.allowFailure === true) return '';
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`${file} ${args.join(' ')} failed: ${stderr.trim()}`);
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => isExecutable(join(dir, name)));
}

function checkInstalled(real: Layout): void {
  const missing = [
    ...['kubelet', 'kube-scheduler', 'kube-proxy', 'kubectl', 'crictl'].map((tool) => join(real.bin, tool)).filter((binary) => !isExecutable(binary)),
    ...['containerd', 'ctr', 'runc', 'iptables', 'ip', 'gcc'].filter((tool) => !onPath(tool)),
    ...(isExecutable('/usr/lib/cni/bridge') ? [] : ['/usr/lib/cni/bridge']),
  ];
  if (missing.length > 0) throw new Error(`the real node needs ${missing.join(', ')}: run bash ${installScript} (as root)`);
  if (process.getuid?.() !== 0) throw new Error('the real node changes the host network and cgroups: run env:up --real-node as root');
}

/** The pod bridge exists before the kubelet: its address is the node IP, the one the pods reach the host on. */
function createBridge(): void {
  const conflicts = conflictingRoutes(command('ip', ['-4', '-o', 'route', 'show', 'match', hostAddress]), bridge);
  if (conflicts.length > 0) {
    const device = /\bdev (\S+)/.exec(conflicts[0]!)?.[1] ?? 'the other interface';
    throw new Error(
      `the real node's pod network ${podCidr} is also routed elsewhere (${conflicts.join('; ')}): pods could not reach the host or a Service. ` +
        `If ${device} is a leftover bridge, remove it with \`ip link del ${device}\`; otherwise free ${podCidr} for the test node`,
    );
  }
  if (command('ip', ['link', 'show', bridge], { allowFailure: true }) === '') command('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const address = `${hostAddress}/${podCidr.split('/')[1]}`;
  const addresses = command('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge]);
  if (!addresses.includes(`inet ${address} `) || (addresses.match(/\binet /g) ?? []).length !== 1) {
    // A bridge left with another address (an older pod network) keeps only this one.
    command('ip', ['addr', 'flush', 'dev', bridge]);
    command('ip', ['addr', 'add', address, 'dev', bridge]);
  }
  command('ip', ['link', 'set', bridge, 'up']);
}

function saveSysctls(real: Layout): void {
  if (existsSync(real.sysctlBackup)) return;
  const values = command('sysctl', hostSysctls, { allowFailure: true }).replaceAll(' = ', '=');
  writeFileSync(real.sysctlBackup, values);
}

function writeCniConfig(real: Layout): string {
  const confDir = join(real.dir, 'cni', 'net.d');
  mkdirSync(confDir, { recursive: true });
  const conflist = {
    cniVersion: '1.0.0',
    name: 'sluice',
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // Pods talk only to the host and to each other: nothing to masquerade to the outside.
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: join(real.dir, 'cni', 'ipam'),
          ranges: [[{ subnet: podCidr, gateway: hostAddress }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  writeFileSync(join(confDir, '10-sluice.conflist'), JSON.stringify(conflist, null, 2));
  return confDir;
}

/** containerd 1.6 (Debian bookworm) for a host without systemd, with cgroup v1, and without a registry. */
function writeContainerdConfig(real: Layout, cniConfDir: string): string {
  const file = join(real.dir, 'containerd.toml');
  writeFileSync(
    file,
    `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "${containerdSocket}"
[plugins."io.containerd.grpc.v1.cri"]
  # Built and imported by env:up (real-node-pause.ts); there is no registry to pull it from.
  sandbox_image = "${pauseImage}"
  disable_apparmor = true
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj and every sandbox would fail with
  # "can't get final child's PID from pipe: EOF". This clamps the pods' scores to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # PID 1 is not systemd: the cgroupfs driver, as the kubelet's cgroupDriver.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`,
  );
  return file;
}

async function startContainerd(paths: EnvPaths, real: Layout): Promise<void> {
  const answers = (): Promise<boolean> =>
    Promise.resolve(
      existsSync(containerdSocket) &&
        command('ctr', ['--address', containerdSocket, '--connect-timeout', '1s', 'version'], { allowFailure: true }).includes('Server:'),
    );
  if (await answers()) return;
  const config = writeContainerdConfig(real, writeCniConfig(real));
  if (daemonPid(paths, 'real-node-containerd') === undefined) startDaemon(paths, 'real-node-containerd', 'containerd', ['--config', config]);
  await waitForDaemon(paths, 'real-node-containerd', `containerd on ${containerdSocket}`, answers, 30_000);
}

const ctr = ['--address', containerdSocket, '--namespace', 'k8s.io'];

/** Imports an OCI archive into the real node's containerd, where Pods with `imagePullPolicy: Never` find it; pinned, so never collected. */
export function importImageArchive(image: string, archive: string): void {
  command('ctr', [...ctr, 'images', 'import', archive]);
  command('ctr', [...ctr, 'images', 'label', image, 'io.cri-containerd.pinned=pinned']);
}

function importPauseImage(paths: EnvPaths): void {
  if (
    command('ctr', [...ctr, 'images', 'ls', '-q'])
      .split('\n')
      .includes(pauseImage)
  )
    return;
  importImageArchive(pauseImage, buildPauseArchive(join(paths.cache, 'real-node')));
}

/** One profile under its own name: the process kubelets bind the default scheduler's pods, so this scheduler takes only pods that ask for it. */
function writeSchedulerConfig(real: Layout): string {
  const file = join(real.dir, 'kube-scheduler.yaml');
  writeFileSync(
    file,
    `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${real.kubeconfig}
leaderElection:
  leaderElect: false
profiles:
- schedulerName: ${schedulerName}
  pluginConfig:
  - name: NodeAffinity
    args:
      # Never onto the process kubelets' Nodes, whatever the pod asks.
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions:
            - {key: ${nodeLabel.key}, operator: In, values: ["${nodeLabel.value}"]}
`,
  );
  return file;
}

function writeKubeletConfig(real: Layout): string {
  const file = join(real.dir, 'kubelet.yaml');
  writeFileSync(
    file,
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${containerdSocket}
# PID 1 is not systemd; containerd's runc uses SystemdCgroup = false too, and they must agree.
cgroupDriver: cgroupfs
# Kubernetes 1.35 refuses cgroup v1 unless told otherwise; this host has only v1 controllers.
failCgroupV1: false
failSwapOn: false
address: ${hostAddress}
port: ${kubeletPort}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${kubeletHealthPort}
podCIDR: ${podCidr}
podLogsDir: ${join(real.dir, 'pod-logs')}
# The test apiserver calls the kubelet without a client certificate; the kubelet listens only on the host-local bridge.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
# Locally imported images cannot be pulled back: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
resolvConf: /etc/resolv.conf
serializeImagePulls: false
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 10s
`,
  );
  return file;
}

function kubeClients(real: Layout): { core: CoreV1Api; discovery: DiscoveryV1Api } {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(real.kubeconfig);
  return { core: kubeconfig.makeApiClient(CoreV1Api), discovery: kubeconfig.makeApiClient(DiscoveryV1Api) };
}

function code(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * The project's apiserver runs with --endpoint-reconciler-type=none, so the `kubernetes` Service (10.0.0.1:443, in its certificate) has no
 * endpoints. This slice points it at the forwarder on the bridge, and kube-proxy makes in-cluster config work in pods.
 */
async function publishApiserver(real: Layout, apiserverPort: number): Promise<void> {
  const { discovery } = kubeClients(real);
  const body = {
    metadata: { name: endpointSliceName, labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'sluice-real-node' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [hostAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: apiserverPort, protocol: 'TCP' }],
  };
  try {
    await discovery.createNamespacedEndpointSlice({ namespace: 'default', body });
  } catch (error) {
    if (code(error) !== 409) throw error;
    await discovery.replaceNamespacedEndpointSlice({ namespace: 'default', name: endpointSliceName, body });
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function nodeReady(real: Layout): Promise<boolean> {
  const { core } = kubeClients(real);
  const found = await core.readNode({ name: node });
  return found.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
}

/**
 * The kubelet registers its Node with the not-ready taint, and the node lifecycle controller takes it off once the Node is Ready; the test
 * controller-manager does not run that controller (the process kubelets' Nodes need none), so this does its one step.
 */
async function untaintReadyNode(real: Layout): Promise<void> {
  const { core } = kubeClients(real);
  const found = await core.readNode({ name: node });
  const taints = found.spec?.taints ?? [];
  const kept = taints.filter((taint) => taint.key !== 'node.kubernetes.io/not-ready');
  if (kept.length === taints.length) return;
  await core.patchNode({ name: node, body: { spec: { taints: kept } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

async function kubeProxyHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
  return response?.ok === true;
}

function kubectl(real: Layout, args: string[], input?: string): string {
  try {
    return execFileSync(join(real.bin, 'kubectl'), [`--kubeconfig=${real.kubeconfig}`, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`kubectl ${args.join(' ')} failed: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
  }
}

/** A CEL string literal. */
function cel(text: string): string {
  return JSON.stringify(text);
}

/**
 * The MutatingAdmissionPolicy for the pods of namespaces labelled `namespaceLabel`: what a cloud cluster gives a pod that a user's
 * manifests (the chart, a StreamJob) leave to the cluster. Mirrors the ServiceAccount admission plugin's kube-api-access volume.
 */
function admissionPolicy(s3: Endpoints['s3']): string {
  const s3Endpoint = `http://${hostAddress}:${portOf(s3.endpoint)}`;
  const env = { AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_REGION: s3.region, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
  const envList = Object.entries(env)
    .map(([name, value]) => `Object.spec.containers.env{name: ${cel(name)}, value: ${cel(value)}}`)
    .join(', ');
  const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount';
  const sources = 'Object.spec.volumes.projected.sources';
  const tokenVolume = `Object.spec.volumes{name: "kube-api-access", projected: Object.spec.volumes.projected{defaultMode: 420, sources: [
          ${sources}{serviceAccountToken: ${sources}.serviceAccountToken{path: "token", expirationSeconds: 3607}},
          ${sources}{configMap: ${sources}.configMap{name: "kube-root-ca.crt", items: [${sources}.configMap.items{key: "ca.crt", path: "ca.crt"}]}},
          ${sources}{downwardAPI: ${sources}.downwardAPI{items: [${sources}.downwardAPI.items{path: "namespace", fieldRef: ${sources}.downwardAPI.items.fieldRef{apiVersion: "v1", fieldPath: "metadata.namespace"}}]}}
        ]}}`;
  const wantsToken =
    "has(object.spec.serviceAccountName) && object.spec.serviceAccountName != '' && !(has(object.spec.automountServiceAccountToken) && !object.spec.automountServiceAccountToken) && !(has(object.spec.volumes) && object.spec.volumes.exists(v, v.name == 'kube-api-access'))";
  return `apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata:
  name: ${admissionPolicyName}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [pods]
  failurePolicy: Fail
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        Object{spec: Object.spec{
          schedulerName: object.spec.schedulerName == "default-scheduler" ? ${cel(schedulerName)} : object.spec.schedulerName,
          containers: object.spec.containers.map(c, Object.spec.containers{name: c.name, env: [${envList}]})
        }}
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        ${wantsToken} ? Object{spec: Object.spec{
          containers: object.spec.containers.map(c, Object.spec.containers{name: c.name, volumeMounts: [
            Object.spec.containers.volumeMounts{name: "kube-api-access", mountPath: "${tokenPath}", readOnly: true}]})
        }} : Object{}
  # The volume's lists are atomic, which an apply configuration may not set: a JSON patch adds it.
  - patchType: JSONPatch
    jsonPatch:
      expression: >
        !(${wantsToken}) ? [] : has(object.spec.volumes)
          ? [JSONPatch{op: "add", path: "/spec/volumes/-", value: ${tokenVolume}}]
          : [JSONPatch{op: "add", path: "/spec/volumes", value: [${tokenVolume}]}]
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata:
  name: ${admissionPolicyName}
spec:
  policyName: ${admissionPolicyName}
  matchResources:
    namespaceSelector:
      matchLabels:
        ${namespaceLabel.key}: "${namespaceLabel.value}"
`;
}

/** Starts the real node on the running test servers (reusing what already runs) and writes `<run>/real-node/node.json`. */
export async function startRealNode(
  paths: EnvPaths,
  endpoints: Endpoints,
  progress: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RealNode> {
  const started = Date.now();
  const step = (what: string): void => progress(`real node: ${what} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const real = layout(paths);
  checkInstalled(real);
  mkdirSync(real.dir, { recursive: true });
  writeFileSync(real.hostChanged, '');
  saveSysctls(real);
  createBridge();
  // Bridged pod traffic must pass iptables so kube-proxy's Service rules apply to it.
  command('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
  await startContainerd(paths, real);
  importPauseImage(paths);
  step('containerd ready with the pause image');

  const kafkaPort = kafkaBridgePort(paths);
  if (!(await tcpOpen('127.0.0.1', kafkaPort))) {
    throw new Error(
      `the shared Kafka broker has no listener for pods on 127.0.0.1:${kafkaPort} (it was started before it had one): restart it with \`kill $(cat ${join(paths.run, 'kafka.pid')})\` and \`npm run env:up\` (it starts with an empty cluster)`,
    );
  }
  const forwarded = [portOf(endpoints.kube.server), portOf(endpoints.s3.endpoint), portOf(endpoints.redis.url), portOf(endpoints.postgres.url), kafkaPort];
  // A forwarder started before Kafka was in the list is replaced.
  if (daemonPid(paths, 'real-node-forward') !== undefined && !(await tcpOpen(hostAddress, kafkaPort))) await stopDaemon(paths, 'real-node-forward');
  if (daemonPid(paths, 'real-node-forward') === undefined) {
    startDaemon(paths, 'real-node-forward', process.execPath, [forwardScript, hostAddress, ...forwarded.map(String)]);
  }
  await publishApiserver(real, portOf(endpoints.kube.server));
  try {
    kubectl(real, ['apply', '-f', '-'], admissionPolicy(endpoints.s3));
  } catch (error) {
    if (!/no matches for kind/.test(String(error))) throw error;
    throw new Error(
      `the apiserver serves no MutatingAdmissionPolicy (it was started before test/env/src/kube.ts enabled it): restart it with \`kill $(cat ${join(paths.run, 'kube-apiserver.pid')})\` and \`npm run env:up\` (etcd keeps the cluster's objects)`,
    );
  }

  if (daemonPid(paths, 'real-node-kube-scheduler') === undefined) {
    startDaemon(paths, 'real-node-kube-scheduler', join(real.bin, 'kube-scheduler'), [
      `--config=${writeSchedulerConfig(real)}`,
      `--authentication-kubeconfig=${real.kubeconfig}`,
      `--authorization-kubeconfig=${real.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${join(real.dir, 'kube-scheduler')}`,
    ]);
  }
  if (daemonPid(paths, 'real-node-kube-proxy') === undefined) {
    startDaemon(paths, 'real-node-kube-proxy', join(real.bin, 'kube-proxy'), [
      `--kubeconfig=${real.kubeconfig}`,
      `--hostname-override=${node}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${podCidr}`,
      '--bind-address=127.0.0.1',
      `--healthz-bind-address=127.0.0.1:${kubeProxyHealthPort}`,
      `--metrics-bind-address=127.0.0.1:${kubeProxyMetricsPort}`,
      `--nodeport-addresses=${hostAddress}/32`,
      // Leave the host's conntrack table and route_localnet as they are: nothing to restore afterwards.
      '--iptables-localhost-nodeports=false',
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0',
      '--conntrack-tcp-timeout-close-wait=0',
    ]);
  }
  if (daemonPid(paths, 'real-node-kubelet') === undefined) {
    startDaemon(paths, 'real-node-kubelet', join(real.bin, 'kubelet'), [
      `--config=${writeKubeletConfig(real)}`,
      `--kubeconfig=${real.kubeconfig}`,
      `--hostname-override=${node}`,
      `--node-ip=${hostAddress}`,
      `--node-labels=${nodeLabel.key}=${nodeLabel.value}`,
      `--root-dir=${real.kubeletRoot}`,
      `--cert-dir=${join(real.kubeletRoot, 'pki')}`,
    ]);
  }
  await waitForDaemon(paths, 'real-node-kube-scheduler', `kube-scheduler on 127.0.0.1:${schedulerPort}`, () => schedulerHealthy(schedulerPort), 60_000);
  step('kube-scheduler healthy');
  await waitForDaemon(
    paths,
    'real-node-kube-proxy',
    `kube-proxy health on 127.0.0.1:${kubeProxyHealthPort}`,
    () => kubeProxyHealthy(kubeProxyHealthPort),
    60_000,
  );
  step('kube-proxy healthy');
  await waitForDaemon(paths, 'real-node-kubelet', `Node ${node} Ready`, () => nodeReady(real), 90_000);
  await untaintReadyNode(real);
  step(`Node ${node} Ready`);
  await waitForDaemon(paths, 'real-node-forward', `the forwarder on ${hostAddress}`, () => tcpOpen(hostAddress, forwarded[0]!), 10_000);

  const realNode: RealNode = { node, schedulerName, nodeLabel, hostAddress, containerdSocket, kafkaBootstrap: `${hostAddress}:${kafkaPort}`, namespaceLabel };
  writeFileSync(real.nodeFile, `${JSON.stringify(realNode, null, 2)}\n`);
  return realNode;
}

/** kube-scheduler serves /healthz with a self-signed certificate and without credentials. */
function schedulerHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpsGet(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

/** The kubectl and crictl built beside the kubelet, for tests that drive the real node as a user would. */
export function realNodeTools(paths: EnvPaths): { kubectl: string; crictl: string } {
  const real = layout(paths);
  return { kubectl: join(real.bin, 'kubectl'), crictl: join(real.bin, 'crictl') };
}

/** The real node's description, when env:up --real-node has started it. */
export function readRealNode(paths: EnvPaths): RealNode {
  const file = layout(paths).nodeFile;
  if (!existsSync(file)) throw new Error(`the real node is not running (${file} does not exist): start it with \`npm run env:up -- --real-node\``);
  return JSON.parse(readFileSync(file, 'utf8')) as RealNode;
}

/** Lets the kubelet tear its pods down itself (CNI DEL, cgroups, volume mounts) while it still runs. */
async function deletePodsOnNode(real: Layout): Promise<void> {
  const { core } = kubeClients(real);
  const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
  await Promise.all(
    pods.items.map((pod) =>
      core.deleteNamespacedPod({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, gracePeriodSeconds: 2 }).catch(() => undefined),
    ),
  );
  await waitFor(
    `the pods on ${node} to be gone`,
    async () => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.length === 0,
    { timeoutMs: 30_000 },
  ).catch(() => undefined);
}

async function forgetNode(real: Layout): Promise<void> {
  const { core, discovery } = kubeClients(real);
  await core.deleteNode({ name: node }).catch(() => undefined);
  for (const kind of ['mutatingadmissionpolicybinding', 'mutatingadmissionpolicy']) {
    try {
      kubectl(real, ['delete', '--ignore-not-found', kind, admissionPolicyName]);
    } catch {
      // An apiserver without the policy API has none to delete.
    }
  }
  await discovery.deleteNamespacedEndpointSlice({ namespace: 'default', name: endpointSliceName }).catch(() => undefined);
}

/** Removes every KUBE-* chain kube-proxy --cleanup leaves behind (the kubelet's canaries, KUBE-FIREWALL), with the jumps to them. */
function removeKubeChains(): void {
  for (const iptables of ['iptables', 'ip6tables']) {
    if (!onPath(iptables)) continue;
    for (const table of ['mangle', 'nat', 'filter']) {
      const rules = command(iptables, ['-t', table, '-S'], { allowFailure: true }).split('\n');
      const chains = rules.filter((rule) => /^-N KUBE-/.test(rule)).map((rule) => rule.split(' ')[1]!);
      for (const rule of rules) {
        const parts = rule.split(' ');
        const target = parts[parts.indexOf('-j') + 1];
        if (parts[0] === '-A' && !chains.includes(parts[1]!) && target !== undefined && chains.includes(target)) {
          command(iptables, ['-t', table, '-D', ...parts.slice(1)], { allowFailure: true });
        }
      }
      for (const chain of chains) command(iptables, ['-t', table, '-F', chain], { allowFailure: true });
      for (const chain of chains) command(iptables, ['-t', table, '-X', chain], { allowFailure: true });
    }
  }
}

function unmountKubelet(real: Layout): void {
  const targets = command('findmnt', ['-rn', '-o', 'TARGET'], { allowFailure: true })
    .split('\n')
    // The kubelet bind-mounts its root directory onto itself (for mount propagation), and its volumes below it.
    .filter((target) => target === real.kubeletRoot || target.startsWith(`${real.kubeletRoot}/`) || target.startsWith('/run/netns/cni-'))
    .sort()
    .reverse();
  for (const target of targets) command('umount', [target], { allowFailure: true });
}

/** The kubepods cgroups the kubelet made: one tree per controller under cgroup v1. */
function removeKubepodsCgroups(): void {
  if (!existsSync('/sys/fs/cgroup')) return;
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    const tree = join('/sys/fs/cgroup', controller, 'kubepods');
    if (existsSync(tree)) command('find', [tree, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', '+'], { allowFailure: true });
  }
}

/** Stops the real node and puts back what it changed on the host; a no-op when it is not running. Keeps containerd's images. */
export async function stopRealNode(paths: EnvPaths): Promise<void> {
  const real = layout(paths);
  if (!existsSync(real.hostChanged)) return;
  const apiserverUp =
    existsSync(real.kubeconfig) &&
    (await kubeClients(real)
      .core.getAPIResources()
      .then(
        () => true,
        () => false,
      ));
  if (apiserverUp && daemonPid(paths, 'real-node-kubelet') !== undefined) await deletePodsOnNode(real);
  for (const name of ['real-node-kubelet', 'real-node-kube-proxy', 'real-node-kube-scheduler', 'real-node-forward']) await stopDaemon(paths, name);
  if (isExecutable(join(real.bin, 'kube-proxy'))) command(join(real.bin, 'kube-proxy'), ['--cleanup'], { allowFailure: true });
  removeKubeChains();
  // Sandboxes left by a kubelet that died first: removing them through CRI makes CNI release their addresses and veths.
  if (daemonPid(paths, 'real-node-containerd') !== undefined && isExecutable(join(real.bin, 'crictl'))) {
    command(join(real.bin, 'crictl'), ['--runtime-endpoint', `unix://${containerdSocket}`, 'rmp', '--force', '--all'], { allowFailure: true });
  }
  await stopDaemon(paths, 'real-node-containerd');
  if (existsSync(real.sysctlBackup)) {
    command('sysctl', ['-q', '-p', real.sysctlBackup], { allowFailure: true });
    rmSync(real.sysctlBackup);
  }
  unmountKubelet(real);
  command('ip', ['link', 'del', bridge], { allowFailure: true });
  rmSync(join(real.dir, 'cni', 'ipam'), { recursive: true, force: true });
  removeKubepodsCgroups();
  if (apiserverUp) await forgetNode(real);
  rmSync(real.nodeFile, { force: true });
  rmSync(real.hostChanged);
}
