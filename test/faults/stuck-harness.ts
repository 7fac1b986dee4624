// Hung dependencies for the stuck-dependency tests: a Redis of the test's own, and freezing a server (SIGSTOP) the way a hung host or a stalled disk does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** A server process the test can freeze: it keeps its connections open and answers nothing until thawed. */
export interface Freezable {
  /** SIGSTOP: the kernel still accepts connections into the backlog; the process reads and answers nothing. */
  freeze: () => void;
  /** SIGCONT: the process goes on where it stopped. */
  thaw: () => void;
}

export function freezable(pid: number): Freezable {
  return {
    freeze: () => process.kill(pid, 'SIGSTOP'),
    thaw: () => process.kill(pid, 'SIGCONT'),
  };
}

/** The pid of the process whose command line holds every one of `parts` (e.g. a private versitygw and its port). */
export function pidOf(parts: readonly string[]): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (parts.every((part) => args.some((arg) => arg.includes(part)))) return Number(entry);
  }
  throw new Error(`no process runs with ${parts.join(' ')} on its command line`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True when Redis on the port answers PING (raw RESP, so no client library retries hide a failure). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

export interface PrivateRedis extends Freezable {
  url: string;
  stop(): Promise<void>;
}

/**
 * A redis-server of one test's own on a free port, in memory only (as test/env starts the shared one): freezing the
 * shared one would stall the tests running beside this one.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  for (let tries = 0; !(await answersPing(port)); tries++) {
    if (tries >= 100 || child.exitCode !== null) throw new Error(`the private redis-server on 127.0.0.1:${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { freeze, thaw } = freezable(child.pid!);
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze,
    thaw,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGKILL ends a frozen process too.
      child.kill('SIGKILL');
      await exited;
    },
  };
}
