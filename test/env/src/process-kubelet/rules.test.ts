// The process kubelet's rules without a cluster: image matching, path rewriting, $(VAR) expansion, port env, addresses and pod IPs.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { expand, fieldValue, rewriteArg, rewritePath, type Mount } from './container-config.js';
import { commandFor, repositoryOf } from './images.js';
import { leasePodIP } from './pod-ips.js';
import { declaredPorts, podAddress, tcpPorts, withPodAddress } from './ports.js';

describe('image matching', () => {
  it('takes the repository without tag or digest, keeping a registry port', () => {
    expect(repositoryOf('ghcr.io/acme/sluice-runtime:1.2')).toBe('ghcr.io/acme/sluice-runtime');
    expect(repositoryOf('registry:5000/acme/app@sha256:abc')).toBe('registry:5000/acme/app');
    expect(repositoryOf('registry:5000/acme/app:1.0@sha256:abc')).toBe('registry:5000/acme/app');
    expect(repositoryOf('busybox')).toBe('busybox');
  });

  it('picks the longest key the repository ends with', () => {
    const images = { 'sluice-runtime': ['runtime'], 'acme/sluice-runtime': { command: ['acme'], cwd: '/tmp' } };
    expect(commandFor(images, 'ghcr.io/acme/sluice-runtime:1')).toEqual({ command: ['acme'], cwd: '/tmp' });
    expect(commandFor(images, 'sluice/sluice-runtime')).toEqual({ command: ['runtime'] });
    expect(commandFor(images, 'sluice/other:sluice-runtime')).toBeUndefined();
  });
});

describe('paths inside mounts', () => {
  const mounts: Mount[] = [
    { mountPath: '/var/lib/sluice/state', localPath: '/work/pod/volumes/state' },
    { mountPath: '/var/lib', localPath: '/work/pod/volumes/lib' },
  ];

  it('rewrites the mount itself and paths below it, the most specific mount first', () => {
    expect(rewritePath('/var/lib/sluice/state', mounts)).toBe('/work/pod/volumes/state');
    expect(rewritePath('/var/lib/sluice/state/p0', mounts)).toBe('/work/pod/volumes/state/p0');
    expect(rewritePath('/var/lib/other', mounts)).toBe('/work/pod/volumes/lib/other');
  });

  it('leaves other values alone, including look-alike prefixes', () => {
    expect(rewritePath('/var/library', mounts)).toBe('/var/library');
    expect(rewritePath('s3://bucket/var/lib', mounts)).toBe('s3://bucket/var/lib');
  });

  it('rewrites the value of a --flag=path argument', () => {
    expect(rewriteArg('--state=/var/lib/sluice/state', mounts)).toBe('--state=/work/pod/volumes/state');
    expect(rewriteArg('--name=x', mounts)).toBe('--name=x');
  });
});

describe('$(VAR) expansion', () => {
  it('replaces defined variables, keeps undefined ones, and unescapes $$', () => {
    expect(expand('$(A)-$(B)-$$(A)', { A: 'a' })).toBe('a-$(B)-$(A)');
  });
});

describe('the downward API', () => {
  const pod: V1Pod = { metadata: { name: 'job-1', namespace: 'ns', labels: { 'apps.kubernetes.io/pod-index': '1' } }, spec: { containers: [] } };
  const placement = { nodeName: 'node', podIP: '127.10.0.7' };

  it("answers names, labels, the Pod's own IP and the node's", () => {
    expect(fieldValue(pod, 'metadata.name', placement)).toBe('job-1');
    expect(fieldValue(pod, "metadata.labels['apps.kubernetes.io/pod-index']", placement)).toBe('1');
    expect(fieldValue(pod, 'status.podIP', placement)).toBe('127.10.0.7');
    expect(fieldValue(pod, 'status.podIPs', placement)).toBe('127.10.0.7');
    expect(fieldValue(pod, 'status.hostIP', placement)).toBe('127.0.0.1');
    expect(() => fieldValue(pod, 'spec.priority', placement)).toThrow('not supported');
  });
});

describe('ports', () => {
  const pod: V1Pod = {
    spec: {
      containers: [
        {
          name: 'main',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'grpc-api', containerPort: 9090 },
            { containerPort: 9000, protocol: 'UDP' },
          ],
        },
      ],
    },
    status: { podIP: '127.10.0.7' },
  };
  const container = pod.spec!.containers[0]!;

  it('annotates the declared ports as they are, and checks only the TCP ones are free', () => {
    expect(declaredPorts(pod)).toEqual({ http: 8080, 'grpc-api': 9090, '9000': 9000 });
    expect(tcpPorts(pod)).toEqual([8080, 9090]);
  });

  it('tells the process its address: POD_IP, PORT_<NAME> for every port, SLUICE_HTTP_PORT and SLUICE_HTTP_HOST for http', () => {
    expect(withPodAddress({ SLUICE_HTTP_HOST: '0.0.0.0', KEPT: 'yes' }, container, '127.10.0.7')).toEqual({
      KEPT: 'yes',
      POD_IP: '127.10.0.7',
      SLUICE_HTTP_PORT: '8080',
      SLUICE_HTTP_HOST: '127.10.0.7',
      PORT_HTTP: '8080',
      PORT_GRPC_API: '9090',
      PORT_9000: '9000',
    });
  });

  it('keeps a POD_IP the Pod sets itself', () => {
    expect(withPodAddress({ POD_IP: 'mine' }, container, '127.10.0.7').POD_IP).toBe('mine');
  });

  it('resolves a container port by name or number to the Pod IP and that port', () => {
    expect(podAddress(pod, 'http')).toBe('http://127.10.0.7:8080');
    expect(podAddress(pod, 9090)).toBe('http://127.10.0.7:9090');
    expect(podAddress(pod, '9000')).toBe('http://127.10.0.7:9000');
    expect(podAddress(pod, 'metrics')).toBeUndefined();
    expect(podAddress({ spec: pod.spec }, 'http')).toBeUndefined();
  });
});

describe('pod IPs', () => {
  /** The address the pool hands out after `ip` (127.10.x.1 to 127.10.x.254, then the next x). */
  function after(ip: string): string {
    const [third = 0, fourth = 0] = ip.split('.').slice(2).map(Number);
    return fourth < 254 ? `127.10.${third}.${fourth + 1}` : `127.10.${(third + 1) % 256}.1`;
  }

  it("skips an address another kubelet has claimed and one where a process holds the Pod's port", async () => {
    const first = await leasePodIP([8080]);
    first.release();
    const occupied = after(first.ip);
    const claimed = after(occupied);
    const orphan = createServer();
    await new Promise<void>((resolve) => orphan.listen(8080, occupied, resolve));
    const otherKubelet = createSocket('udp4');
    await new Promise<void>((resolve) => otherKubelet.bind(65535, claimed, resolve));
    try {
      const lease = await leasePodIP([8080]);
      expect(lease.ip).toBe(after(claimed));
      lease.release();
      lease.release();
    } finally {
      otherKubelet.close();
      await new Promise((resolve) => orphan.close(resolve));
    }
  });
});
