// count_distinct: exact up to EXACT_DISTINCT_LIMIT distinct values, then a HyperLogLog estimate.
import type { Json } from '../state/keyed.js';
import { type Accumulator, type AggregateKind, isJson, unreadableState } from './accumulator.js';
import { HyperLogLog } from './hyperloglog.js';

/** Up to this many distinct values the count is exact; past it, the values give way to a sketch. */
export const EXACT_DISTINCT_LIMIT = 10_000;

/** Values are told apart by their JSON text, so 1 and "1" are two values. */
function identity(value: Json): string {
  return JSON.stringify(value);
}

class CountDistinctAccumulator implements Accumulator<Json> {
  constructor(private values: Set<string> | HyperLogLog = new Set()) {}

  add(input: Json): void {
    this.addIdentity(identity(input));
  }

  merge(other: CountDistinctAccumulator): void {
    if (other.values instanceof HyperLogLog) this.toSketch().merge(other.values);
    else for (const value of other.values) this.addIdentity(value);
  }

  result(): number {
    return this.values instanceof HyperLogLog ? Math.round(this.values.estimate()) : this.values.size;
  }

  toJSON(): Json {
    return this.values instanceof HyperLogLog ? { hll: this.values.toBase64() } : { values: [...this.values] };
  }

  private addIdentity(value: string): void {
    this.values.add(value);
    if (this.values instanceof Set && this.values.size > EXACT_DISTINCT_LIMIT) this.toSketch();
  }

  private toSketch(): HyperLogLog {
    if (this.values instanceof Set) {
      const sketch = new HyperLogLog();
      for (const value of this.values) sketch.add(value);
      this.values = sketch;
    }
    return this.values;
  }
}

export const countDistinct: AggregateKind<Json> = {
  expects: 'any value',
  accepts: isJson,
  create: () => new CountDistinctAccumulator(),
  restore: (json) => {
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      const { values, hll } = json;
      if (Array.isArray(values) && values.every((value) => typeof value === 'string')) {
        return new CountDistinctAccumulator(new Set(values));
      }
      if (typeof hll === 'string') return new CountDistinctAccumulator(HyperLogLog.fromBase64(hll));
    }
    throw unreadableState('count_distinct', json);
  },
};
