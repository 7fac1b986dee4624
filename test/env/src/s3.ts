// An S3-compatible server on loopback: versitygw's posix backend over a folder, built by install/s3.sh.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { daemonPid, portFrom, startDaemon, stopDaemon, tcpOpen, waitForDaemon, type EnvPaths, pinnedVersion } from './proc.js';
import type { S3Endpoint, Service } from './service.js';

const installScript = fileURLToPath(new URL('../install/s3.sh', import.meta.url));
const name = 's3';

function versitygwVersion(): string {
  return pinnedVersion(installScript, 'VERSITYGW_VERSION');
}

function endpoint(port: number): S3Endpoint {
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: process.env.SLUICE_S3_ACCESS_KEY ?? 'sluice-test',
    secretAccessKey: process.env.SLUICE_S3_SECRET_KEY ?? 'sluice-test-secret',
    forcePathStyle: true,
  };
}

/** True when an S3 server on the port accepts our credentials (a signed ListBuckets), not merely when something listens. */
async function answers(s3: S3Endpoint, port: number): Promise<boolean> {
  if (!(await tcpOpen('127.0.0.1', port))) return false;
  // Fresh credentials object: the SDK marks the one it is given, which would leak into the endpoints file.
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

export const s3: Service<S3Endpoint> = {
  name,
  async start(paths: EnvPaths) {
    const port = portFrom('SLUICE_S3_PORT', 17070);
    const s3 = endpoint(port);
    if (await answers(s3, port)) return s3;
    if (daemonPid(paths, name) === undefined) {
      if (await tcpOpen('127.0.0.1', port)) throw new Error(`127.0.0.1:${port} is taken by something that is not our S3 server (or it has other credentials); stop it or set SLUICE_S3_PORT`);
      const binary = join(paths.cache, 's3', versitygwVersion(), 'bin', 'versitygw');
      if (!existsSync(binary)) throw new Error(`versitygw ${versitygwVersion()} is not installed at ${binary}: run npm run env:install (or bash ${installScript})`);
      const dir = join(paths.run, name);
      const data = join(dir, 'data');
      // Object metadata goes to a sidecar folder instead of xattrs, which some filesystems (tmpfs, overlay) refuse.
      const meta = join(dir, 'meta');
      mkdirSync(data, { recursive: true });
      mkdirSync(meta, { recursive: true });
      // One gateway process owns the folder, so the lock files it would leave per bucket and object (.vgwlocks) guard nothing.
      const args = ['--port', `127.0.0.1:${port}`, '--region', s3.region, '--quiet', 'posix', '--sidecar', meta, '--disable-object-lock-file', data];
      startDaemon(paths, name, binary, args, { env: { ROOT_ACCESS_KEY: s3.accessKeyId, ROOT_SECRET_KEY: s3.secretAccessKey } });
    }
    await waitForDaemon(paths, name, `S3 server on 127.0.0.1:${port}`, () => answers(s3, port), 30_000);
    return s3;
  },
  async stop(paths: EnvPaths) {
    await stopDaemon(paths, name);
  },
};
