// What a sink outside Kafka holds between commits: the latest write per key, sent once per commit. The writes are
// idempotent, so a send that fails is tried again with backoff; one that still fails stays buffered for the next commit.
import type { RuntimeClock } from '../time/clock.js';

/** The first retry's wait; each next one doubles it, with jitter (0.5×–1.5×). */
const RETRY_BACKOFF_MS = 200;

export interface SendRetries {
  /** Tries in all, the first included. */
  attempts: number;
  clock: RuntimeClock;
  /** Whether sending the same again can succeed (a lost connection, a timeout); every failure is, unless this says not. */
  retriable?: (error: unknown) => boolean;
  /** The error the commit fails with, after its last try or at a failure that is not retriable. */
  failure: (error: unknown, attempts: number, retriable: boolean) => Error;
}

export class WriteBuffer<V> {
  #pending = new Map<string, V>();

  get size(): number {
    return this.#pending.size;
  }

  /** Keeps `value` as the key's latest write; keys go out in the order of their latest writes. */
  put(key: string, value: V): void {
    this.#pending.delete(key);
    this.#pending.set(key, value);
  }

  /** Sends what is buffered with `send`, tried as `retries` says; resolves once a send succeeded. */
  async commit(send: (entries: readonly (readonly [string, V])[]) => Promise<void>, retries: SendRetries): Promise<void> {
    if (this.#pending.size === 0) return;
    const entries = [...this.#pending];
    this.#pending = new Map();
    for (let attempt = 1; ; attempt++) {
      try {
        await send(entries);
        return;
      } catch (error) {
        const retriable = retries.retriable?.(error) ?? true;
        if (retriable && attempt < retries.attempts) {
          await retries.clock.sleep(RETRY_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random()));
          continue;
        }
        // Put back what may not have been written, so the next commit retries it; newer writes made meanwhile win.
        for (const [key, value] of entries) if (!this.#pending.has(key)) this.#pending.set(key, value);
        throw retries.failure(error, attempt, retriable);
      }
    }
  }
}
