// One readiness or liveness check of a container, against its Pod's IP: httpGet (2xx/3xx) and tcpSocket; exec probes pass.
import { request } from 'node:http';
import type { V1Probe } from '@kubernetes/client-node';
import { tcpOpen } from '../proc.js';

/** The port number behind the probe's port (a name or a number), or undefined when the Pod declares no port of that name. */
export type PortResolver = (port: string | number) => number | undefined;

function httpOk(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, headers, timeout: timeoutMs }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** Dials the Pod's IP, as a kubelet does. An exec probe's command is a path inside the image, which means nothing here: it is taken as passing. */
export async function probeOnce(probe: V1Probe, podIP: string, resolvePort: PortResolver): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet !== undefined) {
    const port = resolvePort(probe.httpGet.port);
    if (port === undefined) return false;
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((header) => [header.name, header.value]));
    return httpOk(probe.httpGet.host ?? podIP, port, probe.httpGet.path ?? '/', headers, timeoutMs);
  }
  if (probe.tcpSocket !== undefined) {
    const port = resolvePort(probe.tcpSocket.port);
    return port !== undefined && tcpOpen(probe.tcpSocket.host ?? podIP, port);
  }
  return true;
}
