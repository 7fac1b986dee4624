// The process kubelet's rules without a cluster: image matching, path rewriting, $(VAR) expansion, port env and addresses.
import type { V1Pod } from '@kubernetes/client-node';
import { expand, fieldValue, rewriteArg, rewritePath, type Mount } from './container-config.js';
import { commandFor, repositoryOf } from './images.js';
import { podAddress, portEnv, portsAnnotation } from './ports.js';

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

  it('answers names, labels and the loopback pod IP', () => {
    expect(fieldValue(pod, 'metadata.name', 'node')).toBe('job-1');
    expect(fieldValue(pod, "metadata.labels['apps.kubernetes.io/pod-index']", 'node')).toBe('1');
    expect(fieldValue(pod, 'status.podIP', 'node')).toBe('127.0.0.1');
    expect(() => fieldValue(pod, 'spec.priority', 'node')).toThrow('not supported');
  });
});

describe('ports', () => {
  const pod: V1Pod = {
    metadata: { annotations: { [portsAnnotation]: JSON.stringify({ http: 40123, 'grpc-api': 40124, '9000': 40125 }) } },
    spec: { containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }, { name: 'grpc-api', containerPort: 9090 }, { containerPort: 9000 }] }] },
  };

  it('tells the process its local ports: SLUICE_HTTP_PORT on loopback for http, PORT_<NAME> for every port', () => {
    expect(portEnv(pod.spec!.containers[0]!, { http: 40123, 'grpc-api': 40124, '9000': 40125 })).toEqual({
      SLUICE_HTTP_PORT: '40123',
      SLUICE_HTTP_HOST: '127.0.0.1',
      PORT_HTTP: '40123',
      PORT_GRPC_API: '40124',
      PORT_9000: '40125',
    });
  });

  it('resolves a container port by name or number to its local address', () => {
    expect(podAddress(pod, 'http')).toBe('http://127.0.0.1:40123');
    expect(podAddress(pod, 9090)).toBe('http://127.0.0.1:40124');
    expect(podAddress(pod, '9000')).toBe('http://127.0.0.1:40125');
    expect(podAddress(pod, 1234)).toBeUndefined();
    expect(podAddress({ spec: pod.spec }, 'http')).toBeUndefined();
  });
});
