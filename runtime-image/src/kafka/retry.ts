// Retries of Kafka calls that failed for a passing reason (leader moving, coordinator loading): jittered exponential backoff, never for other errors.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  retries?: number;
  initialMs?: number;
  maxMs?: number;
}

/** True when the error, or an error it wraps, is one Kafka marks retriable (kafkajs's `retriable` flag). */
export function isRetriable(error: unknown): boolean {
  for (let current: unknown = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if ((current as { retriable?: unknown }).retriable === true) return true;
  }
  return false;
}

export async function retried<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 8;
  const initial = options.initialMs ?? 25;
  const max = options.maxMs ?? 2000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= retries || !isRetriable(error)) throw error;
      await sleep(Math.min(max, initial * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}
