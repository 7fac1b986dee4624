// An S3-compatible server on loopback: versitygw's posix backend over a folder, built by install/s3.sh.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  daemonPid,
  freeLoopbackPort,
  killAndWait,
  portFrom,
  startDaemon,
  stopDaemon,
  tcpOpen,
  waitFor,
  waitForDaemon,
  type EnvPaths,
  pinnedVersion,
} from './proc.js';
import type { S3Endpoint, Service } from './service.js';

const installScript = fileURLToPath(new URL('../install/s3.sh', import.meta.url));
const name = 's3';

function versitygwVersion(): string {
  return pinnedVersion(installScript, 'VERSITYGW_VERSION');
}

function s3Endpoint(port: number): S3Endpoint {
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: process.env.SLUICE_S3_ACCESS_KEY ?? 'sluice-test',
    secretAccessKey: process.env.SLUICE_S3_SECRET_KEY ?? 'sluice-test-secret',
    forcePathStyle: true,
  };
}

/** A client of the S3 server at `s3` (path-style, its credentials); the caller destroys it. */
export function s3Client(s3: S3Endpoint, options: { maxAttempts?: number } = {}): S3Client {
  // Fresh credentials object: the SDK marks the one it is given, which would leak into the endpoints file.
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...options,
  });
}

/** True when an S3 server on the port accepts our credentials (a signed ListBuckets), not merely when something listens. */
async function answers(s3: S3Endpoint, port: number): Promise<boolean> {
  if (!(await tcpOpen('127.0.0.1', port))) return false;
  const client = s3Client(s3, { maxAttempts: 1 });
  try {
    await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** The gateway's command line over `dir` (data and metadata folders created). */
function versitygwCommand(paths: EnvPaths, dir: string, port: number, s3: S3Endpoint): { binary: string; args: string[]; env: Record<string, string> } {
  const binary = join(paths.cache, 's3', versitygwVersion(), 'bin', 'versitygw');
  if (!existsSync(binary)) throw new Error(`versitygw ${versitygwVersion()} is not installed at ${binary}: run npm run env:install (or bash ${installScript})`);
  const data = join(dir, 'data');
  // Object metadata goes to a sidecar folder instead of xattrs, which some filesystems (tmpfs, overlay) refuse.
  const meta = join(dir, 'meta');
  mkdirSync(data, { recursive: true });
  mkdirSync(meta, { recursive: true });
  // One gateway process owns the folder, so the lock files it would leave per bucket and object (.vgwlocks) guard nothing.
  const args = ['--port', `127.0.0.1:${port}`, '--region', s3.region, '--quiet', 'posix', '--sidecar', meta, '--disable-object-lock-file', data];
  return { binary, args, env: { ROOT_ACCESS_KEY: s3.accessKeyId, ROOT_SECRET_KEY: s3.secretAccessKey } };
}

export interface PrivateS3 {
  endpoint: S3Endpoint;
  /** Stops the server (SIGKILL, as an outage); its data stays in its folder. */
  stop(): Promise<void>;
  /** Starts it again over the same folder and port. */
  start(): Promise<void>;
}

/**
 * An S3 server of one test's own on a free port over `dir`, for a test that stops S3 to see what a job does without it
 * (stopping the shared one would fail the tests running beside it).
 */
export async function startPrivateS3(paths: EnvPaths, dir: string): Promise<PrivateS3> {
  const port = await freeLoopbackPort();
  const endpoint = { ...s3Endpoint(port) };
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const { binary, args, env } = versitygwCommand(paths, dir, port, endpoint);
    const log = openSync(join(dir, 'versitygw.log'), 'a');
    const started = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    closeSync(log);
    started.once('error', () => undefined);
    child = started;
    await waitFor(`private S3 server on 127.0.0.1:${port}`, () => answers(endpoint, port), { timeoutMs: 30_000 });
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    await killAndWait(running);
  };
  await start();
  return { endpoint, stop, start };
}

export const s3: Service<S3Endpoint> = {
  name,
  async start(paths: EnvPaths) {
    const port = portFrom('SLUICE_S3_PORT', 17070);
    const s3 = s3Endpoint(port);
    if (await answers(s3, port)) return s3;
    if (daemonPid(paths, name) === undefined) {
      if (await tcpOpen('127.0.0.1', port))
        throw new Error(`127.0.0.1:${port} is taken by something that is not our S3 server (or it has other credentials); stop it or set SLUICE_S3_PORT`);
      const { binary, args, env } = versitygwCommand(paths, join(paths.run, name), port, s3);
      startDaemon(paths, name, binary, args, { env });
    }
    await waitForDaemon(paths, name, `S3 server on 127.0.0.1:${port}`, () => answers(s3, port), 30_000);
    return s3;
  },
  async stop(paths: EnvPaths) {
    await stopDaemon(paths, name);
  },
};
