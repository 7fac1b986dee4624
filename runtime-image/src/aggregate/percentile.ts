// percentile: exact up to EXACT_PERCENTILE_LIMIT values, then a DDSketch (1 % relative accuracy, @datadog/sketches-js).
import sketches from '@datadog/sketches-js';
import type { Json } from '../state/keyed.js';
import { type Accumulator, type AggregateKind, isFiniteNumber, unreadableState } from './accumulator.js';

const { DDSketch } = sketches;
type Sketch = InstanceType<typeof DDSketch>;
type Store = Sketch['store'];

/** Up to this many values the percentile is exact; past it, the values give way to a sketch. */
export const EXACT_PERCENTILE_LIMIT = 1_000;
const RELATIVE_ACCURACY = 0.01;

/**
 * DDSketch's merge in @datadog/sketches-js 2.1.1 leaves out the store of negative values
 * (DataDog/sketches-js#22, open); merging that store here completes it. When either side is
 * empty, the library copies or skips and needs nothing more.
 */
function mergeSketches(into: Sketch, from: Sketch): void {
  const bothHaveValues = into.count > 0 && from.count > 0;
  into.merge(from);
  if (bothHaveValues) into.negativeStore.merge(from.negativeStore);
}

/** A store's non-empty range of bins: counts[i] values fell into bin offset + i. */
type StoreJson = { offset: number; counts: number[] };

function storeToJson(store: Store): StoreJson {
  if (store.count === 0) return { offset: 0, counts: [] };
  return { offset: store.minKey, counts: store.bins.slice(store.minKey - store.offset, store.maxKey - store.offset + 1) };
}

function isStoreJson(json: Json | undefined): json is StoreJson {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  return isFiniteNumber(json.offset) && Array.isArray(json.counts) && json.counts.every(isFiniteNumber);
}

/**
 * Rebuilds a sketch from its bins under a mapping made from the same relative accuracy. The
 * library's own protobuf form is not used: it rebuilds the mapping from gamma, which shifts results
 * in the last digits and makes the restored sketch refuse to merge with a new one.
 */
function sketchFromJson(positive: StoreJson, negative: StoreJson, zeros: number): Sketch {
  const sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  for (const [store, json] of [
    [sketch.store, positive],
    [sketch.negativeStore, negative],
  ] as const) {
    json.counts.forEach((count, index) => {
      if (count > 0) store.add(json.offset + index, count);
    });
  }
  sketch.zeroCount = zeros;
  sketch.count = sketch.store.count + sketch.negativeStore.count + zeros;
  return sketch;
}

class PercentileAccumulator implements Accumulator<number> {
  constructor(
    private readonly quantile: number,
    private values: number[] | Sketch = [],
  ) {}

  add(input: number): void {
    if (Array.isArray(this.values)) {
      this.values.push(input);
      if (this.values.length > EXACT_PERCENTILE_LIMIT) this.toSketch();
    } else {
      this.values.accept(input);
    }
  }

  merge(other: PercentileAccumulator): void {
    if (Array.isArray(other.values)) for (const value of other.values) this.add(value);
    else mergeSketches(this.toSketch(), other.values);
  }

  /** The value at rank ⌊q·(n−1)⌋ of the sorted values, as DDSketch ranks them; null for no values. */
  result(): number | null {
    if (!Array.isArray(this.values)) return this.values.count === 0 ? null : this.values.getValueAtQuantile(this.quantile);
    if (this.values.length === 0) return null;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.floor(this.quantile * (sorted.length - 1))]!;
  }

  toJSON(): Json {
    if (Array.isArray(this.values)) return { values: this.values };
    const { store, negativeStore, zeroCount } = this.values;
    return { positive: storeToJson(store), negative: storeToJson(negativeStore), zeros: zeroCount };
  }

  private toSketch(): Sketch {
    if (Array.isArray(this.values)) {
      const sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
      for (const value of this.values) sketch.accept(value);
      this.values = sketch;
    }
    return this.values;
  }
}

/** The q-quantile (0 ≤ q ≤ 1; 0.5 the median, 0.99 the 99th percentile) of a numeric value. */
export function percentile(quantile: number): AggregateKind<number> {
  if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`a percentile needs q between 0 and 1 (0.99 for p99), not ${quantile}`);
  return {
    expects: 'a number',
    accepts: isFiniteNumber,
    create: () => new PercentileAccumulator(quantile),
    restore: (json) => {
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
        const { values, positive, negative, zeros } = json;
        if (Array.isArray(values) && values.every(isFiniteNumber)) return new PercentileAccumulator(quantile, values);
        if (isStoreJson(positive) && isStoreJson(negative) && isFiniteNumber(zeros)) {
          return new PercentileAccumulator(quantile, sketchFromJson(positive, negative, zeros));
        }
      }
      throw unreadableState('percentile', json);
    },
  };
}
