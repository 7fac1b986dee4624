// Shared by the fault suite: the job it runs, the valid input the corpus is mixed into, and how a run's memory is watched.
import { readFileSync } from 'node:fs';
import { fraudJobSpec, type FraudJobTopics } from '../e2e/kafka/harness.js';

/** Where valid event time starts; every valid record is half a second after the one before. */
export const VALID_START = Date.parse('2025-12-05T00:00:00Z');

/** A valid transaction: customers `c0`…, so results of valid input are told apart from the corpus's `poison-…` ones. */
export function validTransaction(i: number, customers: number): Record<string, unknown> {
  return { customer_id: `c${i % customers}`, amount: (i % 97) + 1, timestamp: new Date(VALID_START + i * 500).toISOString() };
}

/** The fraud-velocity job with a CEL filter in front (so every record also meets CEL), on Kafka topics. */
export function faultJobSpec(topics: Omit<FraudJobTopics, 'name'>): Record<string, unknown> {
  return fraudJobSpec(topics, [{ filter: 'amount > 0.0' }]);
}

/** The resident set of a process now, in bytes (0 once it is gone). */
function rss(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's resident set every 100 ms until `stop`; `max` is the largest seen. */
export function watchMemory(pid: number): { max: () => number; stop: () => void } {
  let max = rss(pid);
  const timer = setInterval(() => (max = Math.max(max, rss(pid))), 100);
  return { max: () => max, stop: () => clearInterval(timer) };
}

/** Resolves with `promise`, or rejects saying what was being waited for once `ms` passed (a hang is a failure, not a timeout of jest). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms / 1000} s: stuck`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The latest result per (customer, window) of valid customers only, as sorted lines. */
export function latestValidResults(values: readonly string[]): string[] {
  const latest = new Map<string, string>();
  for (const value of values) {
    const result = JSON.parse(value) as { customer_id: unknown; window_start: string };
    if (typeof result.customer_id === 'string' && /^c\d+$/.test(result.customer_id)) latest.set(`${result.customer_id} ${result.window_start}`, value);
  }
  return [...latest.values()].sort();
}
