// Redis on loopback, in memory only: Debian's redis-server, configured entirely on its command line.
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { daemonPid, portFrom, startDaemon, stopDaemon, tcpOpen, waitForDaemon, type EnvPaths } from './proc.js';
import type { RedisEndpoint, Service } from './service.js';

const name = 'redis';

/** True when a Redis server on the port answers PING (a raw RESP exchange: no client library retries to switch off). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => finish(false));
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
