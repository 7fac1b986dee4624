// count_distinct and percentile past their exact limits, where sketches take over.
import type { Json } from '../state/keyed.js';
import { compileAggregates } from './aggregates.js';
import { EXACT_DISTINCT_LIMIT } from './count-distinct.js';
import { EXACT_PERCENTILE_LIMIT } from './percentile.js';

const [distinct] = compileAggregates([{ name: 'd', fn: 'count_distinct', field: 'v' }]);
const percentileOf = (q: number) => compileAggregates([{ name: 'p', fn: 'percentile', field: 'v', q }])[0]!;

function distinctOf(from: number, to: number) {
  const accumulator = distinct!.create();
  for (let i = from; i < to; i++) accumulator.add(`v${i}`, 0);
  return accumulator;
}

function percentileAccumulator(q: number, values: readonly number[]) {
  const accumulator = percentileOf(q).create();
  for (const value of values) accumulator.add(value, 0);
  return accumulator;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const roundTrip = (json: Json) => JSON.parse(JSON.stringify(json)) as Json;

describe('count_distinct past its exact limit', () => {
  it('is exact up to the limit', () => {
    expect(EXACT_DISTINCT_LIMIT).toBe(10_000);
    const accumulator = distinctOf(0, 10_000);
    expect(accumulator.result()).toBe(10_000);
    expect(accumulator.toJSON()).toHaveProperty('values');
  });

  it('switches to a HyperLogLog one value past it, within 2.5 %', () => {
    const accumulator = distinctOf(0, 10_001);
    expect(accumulator.toJSON()).toHaveProperty('hll');
    expect(Math.abs((accumulator.result() as number) - 10_001)).toBeLessThan(250);
  });

  it.each([
    { name: 'two exact sets under the limit stay exact', a: [0, 100], b: [50, 150], union: 150, exact: true },
    { name: 'two exact sets whose union passes the limit', a: [0, 6_000], b: [5_000, 11_000], union: 11_000, exact: false },
    { name: 'an exact set into a sketch', a: [0, 20_000], b: [19_000, 20_500], union: 20_500, exact: false },
    { name: 'a sketch into an exact set', a: [19_000, 20_500], b: [0, 20_000], union: 20_500, exact: false },
  ])('merges: $name', ({ a, b, union, exact }) => {
    const merged = distinctOf(a[0]!, a[1]!);
    merged.merge(distinctOf(b[0]!, b[1]!));
    const result = merged.result() as number;
    if (exact) expect(result).toBe(union);
    else expect(Math.abs(result - union) / union).toBeLessThan(0.025);
  });

  it('restores a sketch to the same estimate', () => {
    const accumulator = distinctOf(0, 30_000);
    expect(distinct!.restore(roundTrip(accumulator.toJSON())).result()).toBe(accumulator.result());
  });
});

describe('percentile past its exact limit (DDSketch, 1 % relative accuracy)', () => {
  it('is exact up to the limit', () => {
    expect(EXACT_PERCENTILE_LIMIT).toBe(1_000);
    // 1..1000: rank ⌊0.99·999⌋ = 989, the value 990.
    expect(percentileAccumulator(0.99, range(1, 1_000)).result()).toBe(990);
  });

  // 1..2000: rank ⌊q·1999⌋, value rank + 1.
  it.each([
    [0.5, 1_000],
    [0.99, 1_980],
    [0, 1],
    [1, 2_000],
  ])('q %d of 1..2000 is %d within 1 %', (q, exact) => {
    const result = percentileAccumulator(q, range(1, 2_000)).result() as number;
    expect(Math.abs(result - exact) / exact).toBeLessThanOrEqual(0.01);
  });

  // −1500..−1 and 1..1500 merged: 3000 values, rank ⌊q·2999⌋; sorted index i holds −1500 + i below 1500.
  it.each([
    [0.5, -1],
    [0.25, -751],
    [0.75, 750],
  ])('merges sketches of negative and positive values: q %d is %d within 1 %', (q, exact) => {
    const merged = percentileAccumulator(q, range(-1_500, -1));
    merged.merge(percentileAccumulator(q, range(1, 1_500)));
    const result = merged.result() as number;
    expect(Math.abs(result - exact)).toBeLessThanOrEqual(Math.abs(exact) * 0.01);
  });

  it('merges exact values into a sketch', () => {
    // 1..1500 and 1501..1600: rank ⌊0.5·1599⌋ = 799, the value 800.
    const merged = percentileAccumulator(0.5, range(1, 1_500));
    merged.merge(percentileAccumulator(0.5, range(1_501, 1_600)));
    expect(Math.abs((merged.result() as number) - 800)).toBeLessThanOrEqual(8);
  });

  it('restores a sketch to the same result', () => {
    const accumulator = percentileAccumulator(0.9, range(-500, 2_000));
    const restored = percentileOf(0.9).restore(roundTrip(accumulator.toJSON()));
    expect(restored.result()).toBe(accumulator.result());
    restored.add(5_000, 0);
    accumulator.add(5_000, 0);
    expect(restored.result()).toBe(accumulator.result());
  });

  it('merges a restored sketch with a new one as if it had never been stored', () => {
    const stored = percentileAccumulator(0.5, range(-800, 800));
    const restored = percentileOf(0.5).restore(roundTrip(stored.toJSON()));
    restored.merge(percentileAccumulator(0.5, range(700, 2_500)));
    stored.merge(percentileAccumulator(0.5, range(700, 2_500)));
    expect(restored.result()).toBe(stored.result());
  });
});
