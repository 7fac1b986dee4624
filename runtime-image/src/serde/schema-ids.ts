// What a deserializer knows per writer schema id: fetched once and kept, except an id the registry did not hold, asked again after a while.
import { schemaIdOf } from './wire.js';

/**
 * How long an id the registry did not hold is taken as unknown before it is asked again. Not for ever: a registry
 * replica that lags behind the one a producer registered with answers 404 for a moment. Not each time: a stream of
 * records with a foreign id would otherwise ask the registry once per record.
 */
export const UNKNOWN_ID_RECHECK_MS = 30_000;

export class SchemaIds<T> {
  readonly #entries = new Map<number, { value: T; recheckAt?: number }>();

  /** `clock`: epoch ms; tests pass their own. */
  constructor(private readonly clock: () => number = Date.now) {}

  /** The ids these values name that are not at hand: never fetched, or unknown when last asked over UNKNOWN_ID_RECHECK_MS ago. */
  missing(values: readonly (Buffer | null)[]): Set<number> | undefined {
    let missing: Set<number> | undefined;
    let now: number | undefined;
    for (const value of values) {
      const id = schemaIdOf(value);
      if (id === undefined) continue;
      const entry = this.#entries.get(id);
      if (entry === undefined || (entry.recheckAt !== undefined && entry.recheckAt <= (now ??= this.clock()))) (missing ??= new Set()).add(id);
    }
    return missing;
  }

  get(id: number): T | undefined {
    return this.#entries.get(id)?.value;
  }

  /** `unknown`: the registry did not hold the id; it is asked again once UNKNOWN_ID_RECHECK_MS have passed. */
  set(id: number, value: T, unknown = false): void {
    this.#entries.set(id, unknown ? { value, recheckAt: this.clock() + UNKNOWN_ID_RECHECK_MS } : { value });
  }
}
