// Per-key jittered exponential backoff: the delay before a failed key is tried again (client-go's ItemExponentialFailureRateLimiter).
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Up to this fraction of the delay is added at random, so keys that failed together do not retry together. */
  jitter: number;
  random?: () => number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 100, maxMs: 5 * 60_000, jitter: 0.2 };

export class KeyBackoff {
  private readonly failures = new Map<string, number>();
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions = defaultBackoff) {
    this.random = options.random ?? Math.random;
  }

  /** The delay for this key's next retry; each call counts one more failure. */
  next(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.options.maxMs, this.options.baseMs * 2 ** failures);
    return Math.min(this.options.maxMs, delay * (1 + this.options.jitter * this.random()));
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts again from the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
