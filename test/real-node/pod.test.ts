// The real node (env:up --real-node): Pods that ask for it run as containers under its kubelet and reach the test servers.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { envPaths } from '../env/src/proc.js';
import { buildStaticImageArchive, pauseImage } from '../env/src/real-node-pause.js';
import { importImageArchive, readRealNode } from '../env/src/real-node.js';

const endpoints = readEndpoints();
const realNode = readRealNode(envPaths());
const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(endpoints.kube.kubeconfig);
const core = kubeconfig.makeApiClient(CoreV1Api);
const namespace = `real-node-${randomBytes(4).toString('hex')}`;

/** Connects to each HOST:PORT argument in turn; writes what it reached to the termination message; exits with the number it could not reach. */
const connectImage = 'localhost/sluice-test/connect:1';
const connectSource = `#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  FILE *report = fopen("/dev/termination-log", "w");
  if (!report) report = stdout;
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    char host[64]; int port;
    if (sscanf(argv[i], "%63[^:]:%d", host, &port) != 2) { fprintf(report, "bad %s\\n", argv[i]); failed++; continue; }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &to.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval limit = { .tv_sec = 5 };
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) fprintf(report, "reached %s\\n", argv[i]);
    else { fprintf(report, "cannot reach %s: %s\\n", argv[i], strerror(errno)); failed++; }
    close(s);
  }
  fclose(report);
  return failed;
}
`;

function onRealNode(spec: V1PodSpec): V1PodSpec {
  return { schedulerName: realNode.schedulerName, restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...spec };
}

async function createPod(name: string, spec: V1PodSpec): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: onRealNode(spec) } });
}

function phaseOf(name: string, phases: string[]): Promise<V1Pod> {
  return eventually(
    `pod ${namespace}/${name} in phase ${phases.join(' or ')}`,
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name });
      return phases.includes(pod.status?.phase ?? '') ? pod : undefined;
    },
  );
}

function port(url: string): string {
  return new URL(url).port;
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  importImageArchive(connectImage, buildStaticImageArchive(join(envPaths().cache, 'real-node'), connectImage, connectSource));
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
});

it('runs a Pod that asks for the real node as a container on it, with an address on the pod bridge', async () => {
  await createPod('sandbox', { containers: [{ name: 'pause', image: pauseImage, imagePullPolicy: 'Never' }] });
  const pod = await phaseOf('sandbox', ['Running']);
  expect(pod.spec?.nodeName).toBe(realNode.node);
  expect(pod.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
  expect(pod.status?.podIP).toMatch(/^10\.88\./);
});

it('reaches the apiserver through the kubernetes Service, and S3, Redis and PostgreSQL on the host bridge address', async () => {
  const kubernetes = await core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
  const targets = [
    `${kubernetes.spec!.clusterIP!}:443`,
    `${realNode.hostAddress}:${port(endpoints.kube.server)}`,
    `${realNode.hostAddress}:${port(endpoints.s3.endpoint)}`,
    `${realNode.hostAddress}:${port(endpoints.redis.url)}`,
    `${realNode.hostAddress}:${port(endpoints.postgres.url)}`,
  ];
  await createPod('connect', { containers: [{ name: 'connect', image: connectImage, imagePullPolicy: 'Never', args: targets }] });
  const pod = await phaseOf('connect', ['Succeeded', 'Failed']);
  const report = pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
  expect(report.trim().split('\n')).toEqual(targets.map((target) => `reached ${target}`));
  expect(pod.status?.phase).toBe('Succeeded');
});
