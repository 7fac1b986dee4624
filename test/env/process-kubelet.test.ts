// The process kubelet against the real API server: a StatefulSet's Pods run as local processes, with env, volumes, ports, restarts and deletion.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1EnvVar, type V1Pod, type V1PodSpec, type V1PodStatus } from '@kubernetes/client-node';
import { readEndpoints } from './src/endpoints.js';
import { eventually } from './src/eventually.js';
import { podAddress, podPorts, startProcessKubelet, type ProcessKubelet } from './src/process-kubelet/index.js';

const endpoints = readEndpoints();
const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(endpoints.kube.kubeconfig);
const core = kubeconfig.makeApiClient(CoreV1Api);
const apps = kubeconfig.makeApiClient(AppsV1Api);
const namespace = `process-kubelet-${randomBytes(4).toString('hex')}`;
const scratch = mkdtempSync(join(tmpdir(), 'process-kubelet-test-'));

/**
 * The test image: serves on its Pod's IP (POD_IP) at SLUICE_HTTP_PORT: /readyz (503 while READY_FILE names a missing file), its env on /env, its
 * arguments on /args and the file CONFIG_FILE names on /config; exits at once with EXIT_CODE if set; ignores SIGTERM if
 * IGNORE_TERM is set.
 */
const program = join(scratch, 'echo.mjs');
writeFileSync(
  program,
  `import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
console.log(JSON.stringify(process.env));
if (process.env.EXIT_CODE) process.exit(Number(process.env.EXIT_CODE));
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('SIGTERM ignored'));
createServer((request, response) => {
  if (request.url === '/readyz') {
    response.statusCode = process.env.READY_FILE && !existsSync(process.env.READY_FILE) ? 503 : 200;
    return response.end('ok');
  }
  if (request.url === '/env') return response.end(JSON.stringify(process.env));
  if (request.url === '/args') return response.end(JSON.stringify(process.argv.slice(2)));
  if (request.url === '/config') return response.end(readFileSync(process.env.CONFIG_FILE, 'utf8'));
  response.statusCode = 404;
  response.end();
}).listen(Number(process.env.SLUICE_HTTP_PORT), process.env.POD_IP);
`,
);
const image = 'registry.example/process-kubelet-test/echo:1.0';
/** A namespace the kubelet handles too, for the single-Pod cases. */
const other = `${namespace}-b`;
/** A namespace the kubelet is not told about: its Pods are someone else's. */
const unwatched = `${namespace}-c`;

let kubelet: ProcessKubelet;

beforeAll(async () => {
  for (const name of [namespace, other, unwatched]) await core.createNamespace({ body: { metadata: { name } } });
  kubelet = await startProcessKubelet({
    kubeconfig: endpoints.kube.kubeconfig,
    images: { 'process-kubelet-test/echo': [process.execPath, program] },
    namespace: [namespace, other],
    workDir: join(scratch, 'work'),
    backoff: { initialMs: 200, maxMs: 2000, resetAfterMs: 10_000 },
  });
});

afterAll(async () => {
  // The namespaces go first, while the kubelet still ends their Pods: bound Pods with no kubelet would keep them Terminating.
  for (const name of [other, unwatched]) await core.deleteNamespace({ name });
  await Promise.all([other, unwatched].map((name) => namespaceGone(name)));
  await kubelet.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function namespaceGone(name: string): Promise<true> {
  return eventually(
    `namespace ${name} gone`,
    async () => {
      try {
        await core.readNamespace({ name });
        return undefined;
      } catch (error) {
        return error instanceof ApiException && error.code === 404 ? true : undefined;
      }
    },
    45_000,
  );
}

async function pod(name: string, inNamespace = namespace): Promise<V1Pod | undefined> {
  try {
    return await core.readNamespacedPod({ namespace: inNamespace, name });
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

function ready(candidate: V1Pod | undefined): boolean {
  return candidate?.status?.phase === 'Running' && candidate.status.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
}

function pidOf(candidate: V1Pod): number {
  return Number(candidate.status?.containerStatuses?.[0]?.containerID?.replace('process://', ''));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A GET to a pod's process, waiting for it to listen: a container without a readiness probe is Ready as soon as it starts. */
function get(address: string, path: string): Promise<string> {
  return eventually(`an answer from ${address}${path}`, () =>
    fetch(`${address}${path}`).then(
      (response) => response.text(),
      () => undefined,
    ),
  );
}

describe('the process kubelet', () => {
  const labels = { app: 'echo' };

  it('runs both Pods of a Parallel StatefulSet to Running and Ready, each on its own IP at the declared port', async () => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { greeting: 'hello', 'app.conf': 'mode=test\n' } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'credentials' }, stringData: { password: 's3cret' } } });
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'echo' },
        spec: {
          replicas: 2,
          serviceName: 'echo',
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  name: 'echo',
                  image,
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
                  envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'SETTINGS_' }],
                  env: [
                    { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
                    { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'credentials', key: 'password' } } },
                    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                    { name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
                    { name: 'MESSAGE', value: '$(GREETING) from $(POD_NAME)' },
                    { name: 'CONFIG_FILE', value: '/etc/echo/app.conf' },
                  ],
                  volumeMounts: [{ name: 'config', mountPath: '/etc/echo' }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: 'settings' } }],
            },
          },
        },
      },
    });

    const pods = await eventually('both Pods Running and Ready', async () => {
      const both = await Promise.all([pod('echo-0'), pod('echo-1')]);
      return both.every(ready) ? (both as V1Pod[]) : undefined;
    });

    for (const running of pods) {
      expect(running.spec?.nodeName).toBe(kubelet.nodeName);
      expect(running.status?.podIP).toMatch(/^127\.10\.\d+\.\d+$/);
      expect(running.status?.podIPs).toEqual([{ ip: running.status?.podIP }]);
      expect(running.status?.hostIP).toBe('127.0.0.1');
      expect(running.status?.containerStatuses?.[0]).toMatchObject({ name: 'echo', ready: true, started: true, restartCount: 0 });
      expect(running.status?.conditions?.map((condition) => `${condition.type}=${condition.status}`).sort()).toEqual([
        'ContainersReady=True',
        'Initialized=True',
        'PodScheduled=True',
        'Ready=True',
      ]);
      expect(podPorts(running)).toEqual({ http: 8080 });
      expect(podAddress(running, 'http')).toBe(`http://${running.status?.podIP}:8080`);
    }
    expect(pods[0]!.status?.podIP).not.toBe(pods[1]!.status?.podIP);
    const node = await core.readNode({ name: kubelet.nodeName });
    expect(node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('True');
  });

  it('gives the process its env from ConfigMaps, Secrets and the downward API, and the configMap volume as files', async () => {
    const running = (await pod('echo-1'))!;
    const address = podAddress(running, 'http')!;

    const env = JSON.parse(await get(address, '/env')) as Record<string, string>;

    expect(env).toMatchObject({
      GREETING: 'hello',
      PASSWORD: 's3cret',
      POD_NAME: 'echo-1',
      POD_IP: running.status?.podIP,
      POD_INDEX: '1',
      MESSAGE: 'hello from echo-1',
      SETTINGS_greeting: 'hello',
      HOSTNAME: 'echo-1',
      SLUICE_HTTP_PORT: '8080',
      SLUICE_HTTP_HOST: running.status?.podIP,
      PORT_HTTP: '8080',
    });
    expect(env.CONFIG_FILE).not.toBe('/etc/echo/app.conf');
    expect(await get(address, '/config')).toBe('mode=test\n');
    expect(podAddress(running, 8080)).toBe(address);
  });

  it('restarts a process killed with SIGKILL and counts the restart', async () => {
    const before = (await pod('echo-0'))!;

    kubelet.kill(namespace, 'echo-0', 'SIGKILL');

    const after = await eventually('echo-0 restarted and Ready again', async () => {
      const current = await pod('echo-0');
      return ready(current) && current?.status?.containerStatuses?.[0]?.restartCount === 1 ? current : undefined;
    });
    expect(after.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(alive(pidOf(before))).toBe(false);
    // A restarted container stays in its Pod, and so on the Pod's address.
    expect(after.status?.podIP).toBe(before.status?.podIP);
    expect(await get(podAddress(after, 'http')!, '/readyz')).toBe('ok');
  });

  it('rolls the StatefulSet to a new template: each Pod replaced by one that runs the new spec', async () => {
    const before = await Promise.all([pod('echo-0'), pod('echo-1')]);

    await apps.patchNamespacedStatefulSet({
      namespace,
      name: 'echo',
      body: [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'VERSION', value: '2' } }],
    });

    const after = await eventually('both Pods replaced and Ready', async () => {
      const both = await Promise.all([pod('echo-0'), pod('echo-1')]);
      const replaced = both.every((current, i) => current !== undefined && current.metadata?.uid !== before[i]?.metadata?.uid);
      return replaced && both.every(ready) ? (both as V1Pod[]) : undefined;
    });
    for (const current of after) expect(JSON.parse(await get(podAddress(current, 'http')!, '/env'))).toMatchObject({ VERSION: '2' });
    expect(before.map((previous) => alive(pidOf(previous!)))).toEqual([false, false]);
  });

  it('ends pod 1 and its process when the StatefulSet is scaled to 1', async () => {
    const pid = pidOf((await pod('echo-1'))!);
    expect(alive(pid)).toBe(true);

    await apps.patchNamespacedStatefulSetScale({ namespace, name: 'echo', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] });

    await eventually('echo-1 deleted', async () => ((await pod('echo-1')) === undefined ? true : undefined));
    expect(alive(pid)).toBe(false);
    expect(ready(await pod('echo-0'))).toBe(true);
    expect(readFileSync(join(scratch, 'work', namespace, 'echo-1', 'echo.log'), 'utf8')).toContain('"POD_NAME":"echo-1"');
  });

  it('stops everything when the namespace is deleted', async () => {
    const pid = pidOf((await pod('echo-0'))!);

    await core.deleteNamespace({ name: namespace });

    await namespaceGone(namespace);
    expect(alive(pid)).toBe(false);
  });
});

describe('the process kubelet with single Pods', () => {
  async function createPod(name: string, spec: Partial<V1PodSpec> & { env?: V1EnvVar[]; image?: string; args?: string[] }, inNamespace = other): Promise<void> {
    const { env, image: podImage = image, args, ...rest } = spec;
    await core.createNamespacedPod({
      namespace: inNamespace,
      body: {
        metadata: { name },
        spec: { containers: [{ name: 'main', image: podImage, ports: [{ name: 'http', containerPort: 8080 }], env, args }], ...rest },
      },
    });
  }

  async function status(name: string, inNamespace = other): Promise<V1PodStatus | undefined> {
    return (await pod(name, inNamespace))?.status;
  }

  it('leaves Pods of namespaces it was not given alone', async () => {
    await createPod('elsewhere', {}, unwatched);
    // The kubelet binds a Pod of its own namespace at once; by the time that one runs, the other would have been bound too.
    await createPod('here', {});
    await eventually('the Pod of a watched namespace Running', async () => ((await status('here'))?.phase === 'Running' ? true : undefined));

    const elsewhere = (await pod('elsewhere', unwatched))!;

    expect(elsewhere.spec?.nodeName).toBeUndefined();
    expect(elsewhere.status?.phase).toBe('Pending');
  });

  it('ends a Pod Succeeded or Failed by its exit code when restartPolicy is Never', async () => {
    await createPod('succeeds', { restartPolicy: 'Never', env: [{ name: 'EXIT_CODE', value: '0' }] });
    await createPod('fails', { restartPolicy: 'Never', env: [{ name: 'EXIT_CODE', value: '3' }] });

    const succeeded = await eventually('succeeds Succeeded', async () => ((await status('succeeds'))?.phase === 'Succeeded' ? status('succeeds') : undefined));
    const failed = await eventually('fails Failed', async () => ((await status('fails'))?.phase === 'Failed' ? status('fails') : undefined));

    expect(succeeded?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(failed?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(failed?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('restarts a crashing container with OnFailure, counting restarts, the last exit in lastState', async () => {
    await createPod('crashes', { restartPolicy: 'OnFailure', env: [{ name: 'EXIT_CODE', value: '2' }] });

    const crashing = await eventually('crashes restarted twice', async () => {
      const current = await status('crashes');
      return (current?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? current : undefined;
    });

    expect(crashing?.phase).toBe('Running');
    expect(crashing?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(2);
  });

  it('keeps a Pod whose image has no local command Pending with ErrImagePull', async () => {
    await createPod('unknown-image', { image: 'registry.example/nobody/knows:1' });

    const waiting = await eventually('unknown-image in ErrImagePull', async () => {
      const state = (await status('unknown-image'))?.containerStatuses?.[0]?.state?.waiting;
      return state?.reason === 'ErrImagePull' ? state : undefined;
    });

    expect(waiting.message).toContain('images table');
    expect((await status('unknown-image'))?.phase).toBe('Pending');
  });

  it('waits for a missing ConfigMap with CreateContainerConfigError, and starts once it exists', async () => {
    await createPod('late-config', { env: [{ name: 'LATE', valueFrom: { configMapKeyRef: { name: 'late', key: 'value' } } }] });
    const waiting = await eventually('late-config in CreateContainerConfigError', async () => {
      const state = (await status('late-config'))?.containerStatuses?.[0]?.state?.waiting;
      return state?.reason === 'CreateContainerConfigError' ? state : undefined;
    });
    expect(waiting.message).toContain('ConfigMap');

    await core.createNamespacedConfigMap({ namespace: other, body: { metadata: { name: 'late' }, data: { value: 'arrived' } } });

    const running = await eventually('late-config Ready', async () => {
      const current = await pod('late-config', other);
      return ready(current) ? current : undefined;
    });
    // This Pod's spec does not set POD_IP: the kubelet gives it the Pod's address.
    expect(JSON.parse(await get(podAddress(running, 'http')!, '/env'))).toMatchObject({ LATE: 'arrived', POD_IP: running.status?.podIP });
  });

  it('materializes secret and emptyDir volumes, rewrites paths in args, and follows the readiness probe', async () => {
    await core.createNamespacedSecret({ namespace: other, body: { metadata: { name: 'tls' }, stringData: { 'key.pem': 'not really a key' } } });
    await core.createNamespacedPod({
      namespace: other,
      body: {
        metadata: { name: 'volumes' },
        spec: {
          containers: [
            {
              name: 'main',
              image,
              args: ['--data=/data/store', '/etc/tls/key.pem', '$(GREETING)'],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
              env: [
                { name: 'GREETING', value: 'hi' },
                { name: 'READY_FILE', value: '/data/ready' },
                { name: 'CONFIG_FILE', value: '/etc/tls/key.pem' },
              ],
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'tls', mountPath: '/etc/tls', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'tls', secret: { secretName: 'tls' } },
          ],
        },
      },
    });
    const started = await eventually('volumes Running', async () => {
      const current = await pod('volumes', other);
      return current?.status?.phase === 'Running' && podAddress(current, 'http') !== undefined ? current : undefined;
    });
    const address = podAddress(started, 'http')!;
    const volumes = join(scratch, 'work', other, 'volumes', 'volumes');

    expect(JSON.parse(await get(address, '/args'))).toEqual([`--data=${volumes}/data/store`, `${volumes}/tls/key.pem`, 'hi']);
    expect(await get(address, '/config')).toBe('not really a key');
    expect(ready(await pod('volumes', other))).toBe(false);

    writeFileSync(join(volumes, 'data', 'ready'), '');
    await eventually('volumes Ready once its probe passes', async () => (ready(await pod('volumes', other)) ? true : undefined));
  });

  it('kills a process that ignores SIGTERM after the grace period, then removes the Pod', async () => {
    await createPod('stubborn', { terminationGracePeriodSeconds: 1, env: [{ name: 'IGNORE_TERM', value: '1' }] });
    const running = await eventually('stubborn Running', async () => {
      const current = await pod('stubborn', other);
      return current?.status?.phase === 'Running' ? current : undefined;
    });
    const pid = pidOf(running);
    // Serving means its SIGTERM handler is installed.
    await get(podAddress(running, 'http')!, '/readyz');

    await core.deleteNamespacedPod({ namespace: other, name: 'stubborn' });

    await eventually('stubborn removed', async () => ((await pod('stubborn', other)) === undefined ? true : undefined));
    expect(alive(pid)).toBe(false);
    expect(readFileSync(join(scratch, 'work', other, 'stubborn', 'main.log'), 'utf8')).toContain('SIGTERM ignored');
  });
});
