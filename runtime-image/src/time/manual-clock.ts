// A RuntimeClock that moves only when told to: tests of TTLs, idleness and intervals run in no time, and exactly.
import type { RuntimeClock } from './clock.js';

interface Repeating {
  due: number;
  readonly ms: number;
  readonly fn: () => void;
}

export class ManualClock implements RuntimeClock {
  #now: number;
  readonly #timers = new Set<Repeating>();

  constructor(start = 0) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  every(ms: number, fn: () => void): () => void {
    if (!(ms > 0)) throw new RangeError(`an interval of ${ms} ms never ends; give a positive one`);
    const timer: Repeating = { due: this.#now + ms, ms, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Nothing else runs while the code under test sleeps, so its sleep moves time on by `ms` (timers falling due fire). */
  sleep(ms: number): Promise<void> {
    this.advance(Math.max(0, ms));
    return Promise.resolve();
  }

  /** Moves time on by `ms`, calling each timer as often as it falls due, earliest first, with the time it fell due. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let next = this.#nextDue(end); next !== undefined; next = this.#nextDue(end)) {
      this.#now = next.due;
      next.due += next.ms;
      next.fn();
    }
    this.#now = end;
  }

  #nextDue(end: number): Repeating | undefined {
    let earliest: Repeating | undefined;
    for (const timer of this.#timers) if (timer.due <= end && (earliest === undefined || timer.due < earliest.due)) earliest = timer;
    return earliest;
  }
}
