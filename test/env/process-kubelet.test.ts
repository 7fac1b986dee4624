// The process kubelet against the real API server: a StatefulSet's Pods run as local processes, with env, volumes, ports, restarts and deletion.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
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

/** The test image: serves /readyz on SLUICE_HTTP_PORT, its env on /env, and the file CONFIG_FILE names on /config. */
const program = join(scratch, 'echo.mjs');
writeFileSync(
  program,
  `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
console.log(JSON.stringify(process.env));
createServer((request, response) => {
  if (request.url === '/readyz') return response.end('ok');
  if (request.url === '/env') return response.end(JSON.stringify(process.env));
  if (request.url === '/config') return response.end(readFileSync(process.env.CONFIG_FILE, 'utf8'));
  response.statusCode = 404;
  response.end();
}).listen(Number(process.env.SLUICE_HTTP_PORT), '127.0.0.1');
`,
);

let kubelet: ProcessKubelet;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  kubelet = await startProcessKubelet({
    kubeconfig: endpoints.kube.kubeconfig,
    images: { 'process-kubelet-test/echo': [process.execPath, program] },
    namespace,
    workDir: join(scratch, 'work'),
    backoff: { initialMs: 200, maxMs: 2000, resetAfterMs: 10_000 },
  });
});

afterAll(async () => {
  await kubelet.stop();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

async function pod(name: string): Promise<V1Pod | undefined> {
  try {
    return await core.readNamespacedPod({ namespace, name });
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

async function get(address: string, path: string): Promise<string> {
  const response = await fetch(`${address}${path}`);
  return response.text();
}

describe('the process kubelet', () => {
  const labels = { app: 'echo' };

  it('runs both Pods of a Parallel StatefulSet to Running and Ready, with their ports annotated', async () => {
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
                  image: 'registry.example/process-kubelet-test/echo:1.0',
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
      expect(running.status?.podIP).toBe('127.0.0.1');
      expect(running.status?.containerStatuses?.[0]).toMatchObject({ name: 'echo', ready: true, started: true, restartCount: 0 });
      expect(running.status?.conditions?.map((condition) => `${condition.type}=${condition.status}`).sort()).toEqual([
        'ContainersReady=True',
        'Initialized=True',
        'PodScheduled=True',
        'Ready=True',
      ]);
      expect(Object.keys(podPorts(running) ?? {})).toEqual(['http']);
    }
    expect(podPorts(pods[0]!)?.http).not.toBe(podPorts(pods[1]!)?.http);
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
      POD_IP: '127.0.0.1',
      POD_INDEX: '1',
      MESSAGE: 'hello from echo-1',
      SETTINGS_greeting: 'hello',
      HOSTNAME: 'echo-1',
      SLUICE_HTTP_PORT: String(podPorts(running)?.http),
      PORT_HTTP: String(podPorts(running)?.http),
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
    expect(await get(podAddress(after, 'http')!, '/readyz')).toBe('ok');
  });

  it('ends pod 1 and its process when the StatefulSet is scaled to 1', async () => {
    const pid = pidOf((await pod('echo-1'))!);
    expect(alive(pid)).toBe(true);

    await apps.patchNamespacedStatefulSetScale(
      { namespace, name: 'echo', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] },
    );

    await eventually('echo-1 deleted', async () => ((await pod('echo-1')) === undefined ? true : undefined));
    expect(alive(pid)).toBe(false);
    expect(ready(await pod('echo-0'))).toBe(true);
    expect(readFileSync(join(scratch, 'work', namespace, 'echo-1', 'echo.log'), 'utf8')).toContain('"POD_NAME":"echo-1"');
  });

  it('stops everything when the namespace is deleted', async () => {
    const pid = pidOf((await pod('echo-0'))!);

    await core.deleteNamespace({ name: namespace });

    await eventually('the namespace gone', async () => {
      try {
        await core.readNamespace({ name: namespace });
        return undefined;
      } catch (error) {
        return error instanceof ApiException && error.code === 404 ? true : undefined;
      }
    }, 45_000);
    expect(alive(pid)).toBe(false);
  });
});
