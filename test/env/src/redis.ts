// Redis on loopback, in memory only: Debian's redis-server, configured entirely on its command line.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { daemonPid, freeLoopbackPort, killAndWait, portFrom, startDaemon, stopDaemon, tcpOpen, waitFor, waitForDaemon, type EnvPaths } from './proc.js';
import type { RedisEndpoint, Service } from './service.js';

const name = 'redis';

/** True when a Redis server on the port answers PING (a raw RESP exchange: no client library retries to switch off). */
export function answersPing(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

export const redis: Service<RedisEndpoint> = {
  name,
  async start(paths: EnvPaths) {
    const port = portFrom('SLUICE_REDIS_PORT', 16379);
    const endpoint = { url: `redis://127.0.0.1:${port}` };
    if (await answersPing(port)) return endpoint;
    if (daemonPid(paths, name) === undefined) {
      if (await tcpOpen('127.0.0.1', port)) throw new Error(`127.0.0.1:${port} is taken by something that is not Redis; stop it or set SLUICE_REDIS_PORT`);
      const dir = join(paths.run, name);
      mkdirSync(dir, { recursive: true });
      // No snapshots and no append-only file: the test data lives only as long as the server.
      const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--logfile', ''];
      startDaemon(paths, name, 'redis-server', args);
    }
    await waitForDaemon(paths, name, `Redis on 127.0.0.1:${port}`, () => answersPing(port), 15_000);
    return endpoint;
  },
  async stop(paths: EnvPaths) {
    await stopDaemon(paths, name);
  },
};

export interface PrivateRedis {
  url: string;
  /** The server's pid, to freeze it (SIGSTOP) the way a hung host does. */
  pid: number;
  /** SIGKILL (which ends a frozen process too), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * A redis-server of one test's own on a free port, in memory only like the shared one, for a test that freezes or
 * stops Redis to see what a job does (freezing the shared one would stall the tests running beside it).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freeLoopbackPort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''],
    { stdio: 'ignore' },
  );
  child.once('error', () => undefined);
  await waitFor(`private redis-server on 127.0.0.1:${port}`, async () => child.exitCode === null && (await answersPing(port, 1000)), { timeoutMs: 10_000 });
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop: () => killAndWait(child) };
}
