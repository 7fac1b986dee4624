// Hung dependencies for the stuck-dependency tests: a Redis of the test's own, freezing a server (SIGSTOP) the way a hung host does, and input that keeps coming meanwhile.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
import { kafka } from '../e2e/kafka/harness.js';

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

/** Transactions per batch of input. */
const BATCH = 200;
const CUSTOMERS = 40;
const EPOCH = Date.parse('2025-12-05T00:00:00Z');

/**
 * Produces transactions `from` … `from + 200` (one a second of event time, customer `c<i mod 40>`, amount i,
 * round-robin over the partitions) and returns where the next batch starts: input a test feeds while a dependency hangs.
 */
export async function produceBatch(brokers: string[], topic: string, partitions: number, from: number): Promise<number> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: BATCH }, (_, k) => {
        const i = from + k;
        return { partition: i % partitions, key: `c${i % CUSTOMERS}`, value: JSON.stringify({ customer_id: `c${i % CUSTOMERS}`, amount: i, timestamp: new Date(EPOCH + i * 1000).toISOString() }) };
      }),
    });
  } finally {
    await producer.disconnect();
  }
  return from + BATCH;
}

/** The end-of-input marker in every partition: a runtime with SLUICE_END_MARKERS then finishes. */
export async function produceEndOfInput(brokers: string[], topic: string, partitions: number): Promise<void> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })) });
  } finally {
    await producer.disconnect();
  }
}
