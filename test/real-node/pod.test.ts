// The real node (env:up --real-node): Pods that ask for it run as containers under its kubelet and reach the test servers.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { registerNode } from '../env/src/process-kubelet/node.js';
import { envPaths } from '../env/src/proc.js';
import { podCidr } from '../env/src/pod-network.js';
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
  return eventually(`pod ${namespace}/${name} in phase ${phases.join(' or ')}`, async () => {
    const pod = await core.readNamespacedPod({ namespace, name });
    return phases.includes(pod.status?.phase ?? '') ? pod : undefined;
  });
}

function port(url: string): string {
  return new URL(url).port;
}

/** A process kubelet's Node, Ready and schedulable: the real scheduler must never use it. */
const processNode = `process-kubelet-${namespace}`;
let stopProcessNode: () => void;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // Registered first, so the scheduler has seen it long before the last test asks for it.
  stopProcessNode = await registerNode(kubeconfig, processNode, () => undefined);
  importImageArchive(connectImage, buildStaticImageArchive(join(envPaths().cache, 'real-node'), connectImage, connectSource));
});

afterAll(async () => {
  stopProcessNode();
  await core.deleteNode({ name: processNode });
  await core.deleteNamespace({ name: namespace });
});

it('runs a Pod that asks for the real node as a container on it, with an address on the pod bridge', async () => {
  await createPod('sandbox', { containers: [{ name: 'pause', image: pauseImage, imagePullPolicy: 'Never' }] });
  const pod = await phaseOf('sandbox', ['Running']);
  expect(pod.spec?.nodeName).toBe(realNode.node);
  expect(pod.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
  // In the pod network's /16 (test/env/src/pod-network.ts).
  expect(pod.status?.podIP?.split('.').slice(0, 2)).toEqual(podCidr.split('.').slice(0, 2));
});

it('reaches the apiserver through the kubernetes Service, and S3, Redis, PostgreSQL and Kafka on the host bridge address', async () => {
  const kubernetes = await core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
  const targets = [
    `${kubernetes.spec!.clusterIP!}:443`,
    `${realNode.hostAddress}:${port(endpoints.kube.server)}`,
    `${realNode.hostAddress}:${port(endpoints.s3.endpoint)}`,
    `${realNode.hostAddress}:${port(endpoints.redis.url)}`,
    `${realNode.hostAddress}:${port(endpoints.postgres.url)}`,
    realNode.kafkaBootstrap,
  ];
  await createPod('connect', { containers: [{ name: 'connect', image: connectImage, imagePullPolicy: 'Never', args: targets }] });
  const pod = await phaseOf('connect', ['Succeeded', 'Failed']);
  const report = pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
  expect(report.trim().split('\n')).toEqual(targets.map((target) => `reached ${target}`));
  expect(pod.status?.phase).toBe('Succeeded');
});

it("never places a Pod on a process kubelet's Node, even one that the Pod names and whose taints it tolerates", async () => {
  await createPod('elsewhere', {
    nodeSelector: { 'kubernetes.io/hostname': processNode },
    // Process kubelets' Nodes keep the not-ready taint the apiserver gives new Nodes; a Pod tolerating everything gets past that.
    tolerations: [{ operator: 'Exists' }],
    containers: [{ name: 'pause', image: pauseImage, imagePullPolicy: 'Never' }],
  });
  const refusal = await eventually('the real scheduler to say why it cannot place pod elsewhere', async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=elsewhere,reason=FailedScheduling' });
    return events.items[0]?.message;
  });
  // The process kubelet's Node (registered before the first test) is refused for the affinity the real scheduler adds to every Pod.
  expect(refusal).toMatch(/^0\/\d+ nodes are available: .*\b[1-9]\d* node\(s\) didn't match scheduler-enforced node affinity/);
  expect((await core.readNamespacedPod({ namespace, name: 'elsewhere' })).spec?.nodeName).toBeUndefined();
});
