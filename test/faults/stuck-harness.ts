// Hung dependencies for the stuck-dependency tests: freezing a server (SIGSTOP) the way a hung host does, and input that keeps coming meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
import { kafka } from '../e2e/kafka/harness.js';
import { startPrivateRedis as startRedis, type PrivateRedis as Redis } from '../env/src/redis.js';

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

export type PrivateRedis = Redis & Freezable;

/** A Redis of the test's own (test/env's startPrivateRedis) that the test can freeze. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const redis = await startRedis();
  return { ...redis, ...freezable(redis.pid) };
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
        return {
          partition: i % partitions,
          key: `c${i % CUSTOMERS}`,
          value: JSON.stringify({ customer_id: `c${i % CUSTOMERS}`, amount: i, timestamp: new Date(EPOCH + i * 1000).toISOString() }),
        };
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
    await producer.send({
      topic,
      messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
  } finally {
    await producer.disconnect();
  }
}
