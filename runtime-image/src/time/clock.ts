// Processing time as a dependency: where time decides what the runtime does (the state TTL, the checkpoint interval, pacing),
// it reads the time and sets its timers through a RuntimeClock, so a test passes a ManualClock and moves time itself.
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from './watermark.js';

export interface RuntimeClock {
  /** Epoch milliseconds; a plain function, so it can be passed on where a `Clock` is taken. */
  readonly now: Clock;
  /** Calls `fn` every `ms` from now on; the returned function stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Resolves `ms` from now. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: RuntimeClock = {
  now: Date.now,
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
  sleep: (ms) => delay(ms),
};
