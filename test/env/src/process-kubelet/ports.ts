// A Pod's address: its own loopback IP and its declared container ports, told to the process by env and to tests by an annotation.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Annotation on every Pod the process kubelet runs: `{"http": 8080}`, a port's name (or its number when unnamed) → its containerPort. */
export const portsAnnotation = 'sluice.dev/process-kubelet-ports';

export type PortMap = Record<string, number>;

function portKey(port: { name?: string; containerPort: number }): string {
  return port.name ?? String(port.containerPort);
}

/** Every containerPort of every container in the Pod, by name (or number); each Pod has its own IP, so none is remapped. */
export function declaredPorts(pod: V1Pod): PortMap {
  const ports: PortMap = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) ports[portKey(port)] = port.containerPort;
  }
  return ports;
}

/** The TCP containerPorts, which the Pod's processes will listen on at its IP. */
export function tcpPorts(pod: V1Pod): number[] {
  return (pod.spec?.containers ?? [])
    .flatMap((container) => container.ports ?? [])
    .filter((port) => (port.protocol ?? 'TCP') === 'TCP')
    .map((port) => port.containerPort);
}

/**
 * The container's env with its Pod's address added. `POD_IP` is the Pod's own address, as a cluster gives a Pod one, for a
 * program to listen on; the Pod's own env wins, as it holds the same value when it takes `status.podIP` by fieldRef.
 * `PORT_<NAME>` names each containerPort (the name upper-cased, other characters as `_`; the number for an unnamed port).
 * For the port named `http`, where the Sluice runtime listens, `SLUICE_HTTP_PORT` and `SLUICE_HTTP_HOST=<pod IP>` override
 * the Pod's env: a pod spec says 0.0.0.0, every address of the Pod; here every Pod shares the machine, and a process that
 * listened on 0.0.0.0 would take its port on every Pod's address.
 */
export function withPodAddress(env: Record<string, string>, container: V1Container, podIP: string): Record<string, string> {
  const withAddress: Record<string, string> = { ...env };
  withAddress.POD_IP ??= podIP;
  for (const port of container.ports ?? []) {
    withAddress[
      `PORT_${portKey(port)
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '_')}`
    ] = String(port.containerPort);
    if (port.name === 'http') {
      withAddress.SLUICE_HTTP_PORT = String(port.containerPort);
      withAddress.SLUICE_HTTP_HOST = podIP;
    }
  }
  return withAddress;
}

/** The port number behind a port given by name or number (as probes and Services name them); undefined for an unknown name. */
export function containerPort(pod: V1Pod, port: string | number): number | undefined {
  if (typeof port === 'number' || /^\d+$/.test(port)) return Number(port);
  return (pod.spec?.containers ?? []).flatMap((container) => container.ports ?? []).find((candidate) => candidate.name === port)?.containerPort;
}

/** The port map the process kubelet wrote on a Pod, or undefined before it has started the Pod. */
export function podPorts(pod: V1Pod): PortMap | undefined {
  const annotation = pod.metadata?.annotations?.[portsAnnotation];
  return annotation === undefined ? undefined : (JSON.parse(annotation) as PortMap);
}

/**
 * Where a Pod's container port is reached, as in a cluster: `http://<status.podIP>:<containerPort>`, the port given by name
 * or number. Undefined until the kubelet has written the Pod's IP into its status, or for a port name the Pod does not declare.
 */
export function podAddress(pod: V1Pod, port: string | number, scheme = 'http'): string | undefined {
  const ip = pod.status?.podIP;
  const number = containerPort(pod, port);
  return ip === undefined || ip === '' || number === undefined ? undefined : `${scheme}://${ip}:${number}`;
}
