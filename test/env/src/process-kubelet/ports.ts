// Container ports on one loopback address: each gets a free local port, told to the process by env and to tests by an annotation.
import { createServer } from 'node:net';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Annotation on every Pod the process kubelet runs: `{"http": 40123}`, a port's name (or its number when unnamed) → its local port. */
export const portsAnnotation = 'sluice.dev/process-kubelet-ports';

export type PortMap = Record<string, number>;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portKey(port: { name?: string; containerPort: number }): string {
  return port.name ?? String(port.containerPort);
}

/** A free local port for every containerPort of every container in the pod. */
export async function allocatePorts(pod: V1Pod): Promise<PortMap> {
  const ports: PortMap = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) ports[portKey(port)] = await freePort();
  }
  return ports;
}

/**
 * What the process is told so it listens on its local ports instead of the container ports: `PORT_<NAME>` for every port
 * (the name upper-cased, other characters as `_`; the number for an unnamed port), and for the port named `http`, where the
 * Sluice runtime listens, `SLUICE_HTTP_PORT` with `SLUICE_HTTP_HOST=127.0.0.1` (a pod spec says 0.0.0.0; here every process
 * shares the machine, so it listens on loopback only). These override the container's own env.
 */
export function portEnv(container: V1Container, ports: PortMap): Record<string, string> {
  const env: Record<string, string> = {};
  for (const port of container.ports ?? []) {
    const local = ports[portKey(port)];
    if (local === undefined) continue;
    env[`PORT_${portKey(port).toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(local);
    if (port.name === 'http') {
      env.SLUICE_HTTP_PORT = String(local);
      env.SLUICE_HTTP_HOST = '127.0.0.1';
    }
  }
  return env;
}

/** The local port behind a container port given by name or number (as probes and Services name them). */
export function localPort(pod: V1Pod, ports: PortMap, port: string | number): number | undefined {
  if (typeof port === 'string' && !/^\d+$/.test(port)) return ports[port];
  const number = Number(port);
  const declared = (pod.spec?.containers ?? []).flatMap((container) => container.ports ?? []).find((candidate) => candidate.containerPort === number);
  return declared === undefined ? undefined : ports[portKey(declared)];
}

/** The port map the process kubelet wrote on a Pod, or undefined before it has started the Pod. */
export function podPorts(pod: V1Pod): PortMap | undefined {
  const annotation = pod.metadata?.annotations?.[portsAnnotation];
  return annotation === undefined ? undefined : (JSON.parse(annotation) as PortMap);
}

/**
 * The address a test reaches a Pod's container port at (`http://127.0.0.1:40123`), by the port's name or number; undefined
 * until the process kubelet has annotated the Pod. This is the pod-address resolver to hand to code that would dial the pod IP.
 */
export function podAddress(pod: V1Pod, port: string | number, scheme = 'http'): string | undefined {
  const ports = podPorts(pod);
  const local = ports === undefined ? undefined : localPort(pod, ports, port);
  return local === undefined ? undefined : `${scheme}://127.0.0.1:${local}`;
}
