// Waiting in a test for something the servers do asynchronously, bounded so a test never polls forever.
import { inspect } from 'node:util';
import { sleep } from './proc.js';

/**
 * Polls `read` until it returns a value; an error counts as "not yet" (a Pod the StatefulSet controller has not
 * created, a coordinator still loading), as Gomega's Eventually does. Fails naming `what` and the last error after
 * `timeoutMs`.
 */
export async function eventually<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `; the last attempt failed: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`;
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${cause}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
