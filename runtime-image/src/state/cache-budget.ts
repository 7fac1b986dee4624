// How many keys the write-back caches of one pod may hold together (spec.state.cacheSize), shared evenly.

/** One keyed state's part of the budget. */
export interface CacheShare {
  /** The entries this state may keep after a flush: the budget divided by the states sharing it now. */
  readonly limit: number;
}

/**
 * Shared evenly rather than by demand: every keyed state of every task gets the same part, so one
 * busy operator cannot starve the others and the limit is known without coordination.
 */
export class CacheBudget {
  readonly entries: number;
  #members = 0;

  constructor(entries: number) {
    if (!Number.isInteger(entries) || entries < 0) throw new RangeError(`a state cache size must be a whole number of keys ≥ 0, not ${entries}`);
    this.entries = entries;
  }

  join(): CacheShare {
    this.#members++;
    const limit = (): number => Math.floor(this.entries / this.#members);
    return {
      get limit(): number {
        return limit();
      },
    };
  }
}
