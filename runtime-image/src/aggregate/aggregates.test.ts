import { crdManifest } from '@sluice/crds';
import type { Json } from '../state/keyed.js';
import { AGGREGATE_FUNCTIONS, type Aggregate, type AggregateSpec, AggregateInputError, AggregateSpecError, compileAggregates } from './aggregates.js';

type Row = [record: Record<string, unknown>, timestamp: number];

function compile(spec: AggregateSpec): Aggregate {
  return compileAggregates([spec])[0]!;
}

/** Adds the rows in order to one accumulator and returns it. */
function accumulate(aggregate: Aggregate, rows: readonly Row[]) {
  const accumulator = aggregate.create();
  for (const [record, timestamp] of rows) {
    const input = aggregate.read(record);
    if (input !== undefined) accumulator.add(input, timestamp);
  }
  return accumulator;
}

function roundTrip(aggregate: Aggregate, json: Json) {
  return aggregate.restore(JSON.parse(JSON.stringify(json)) as Json);
}

const rowsOf = (field: string, values: readonly unknown[]): Row[] => values.map((value, i) => [{ [field]: value }, 1_000 + i]);

const cases: { name: string; spec: AggregateSpec; rows: Row[]; expected: Json }[] = [
  {
    name: 'count counts records',
    spec: { name: 'n', fn: 'count' },
    rows: [
      [{}, 1],
      [{ a: null }, 2],
      [{ a: 1 }, 3],
    ],
    expected: 3,
  },
  {
    name: 'count of a field skips null and missing',
    spec: { name: 'n', fn: 'count', field: 'x' },
    rows: [
      [{ x: 1 }, 1],
      [{ x: null }, 2],
      [{}, 3],
      [{ x: 0 }, 4],
    ],
    expected: 2,
  },
  { name: 'count of nothing', spec: { name: 'n', fn: 'count' }, rows: [], expected: 0 },
  { name: 'sum', spec: { name: 's', fn: 'sum', field: 'amount' }, rows: rowsOf('amount', [12.5, 7.25, null, 0.25]), expected: 20 },
  // Added one by one in binary floating point these give 0.9999999999999999 and 556.3299999999999.
  {
    name: 'sum of decimal amounts as computed by hand',
    spec: { name: 's', fn: 'sum', field: 'amount' },
    rows: rowsOf('amount', Array<number>(10).fill(0.1)),
    expected: 1,
  },
  {
    name: 'sum of transaction amounts',
    spec: { name: 's', fn: 'sum', field: 'amount' },
    rows: rowsOf('amount', [120.5, 89.99, 45.25, 300.59]),
    expected: 556.33,
  },
  {
    name: 'sum of a value past 12 decimals is floating point',
    spec: { name: 's', fn: 'sum', field: 'v' },
    rows: rowsOf('v', [0.5, 1 / 3, -0.25]),
    expected: 0.5 + 1 / 3 - 0.25,
  },
  { name: 'sum of negative amounts', spec: { name: 's', fn: 'sum', field: 'v' }, rows: rowsOf('v', [-0.05, 0.01, -0.01]), expected: -0.05 },
  { name: 'avg of decimal amounts', spec: { name: 'a', fn: 'avg', field: 'v' }, rows: rowsOf('v', Array<number>(10).fill(0.1)), expected: 0.1 },
  { name: 'sum of only nulls is null', spec: { name: 's', fn: 'sum', field: 'amount' }, rows: rowsOf('amount', [null, undefined]), expected: null },
  { name: 'min', spec: { name: 'm', fn: 'min', field: 'v' }, rows: rowsOf('v', [3, -2, 7]), expected: -2 },
  { name: 'max', spec: { name: 'm', fn: 'max', field: 'v' }, rows: rowsOf('v', [3, -2, 7]), expected: 7 },
  { name: 'avg', spec: { name: 'a', fn: 'avg', field: 'v' }, rows: rowsOf('v', [1, 2, 3, 4]), expected: 2.5 },
  { name: 'avg of nothing is null', spec: { name: 'a', fn: 'avg', field: 'v' }, rows: [], expected: null },
  {
    name: 'first by event time, a tie going to the earlier arrival',
    spec: { name: 'f', fn: 'first', field: 'v' },
    rows: [
      [{ v: 'a' }, 20],
      [{ v: 'b' }, 10],
      [{ v: 'c' }, 10],
      [{ v: 'd' }, 30],
    ],
    expected: 'b',
  },
  {
    name: 'last by event time, a tie going to the later arrival',
    spec: { name: 'l', fn: 'last', field: 'v' },
    rows: [
      [{ v: 'a' }, 30],
      [{ v: 'b' }, 10],
      [{ v: 'c' }, 30],
      [{ v: 'd' }, 20],
    ],
    expected: 'c',
  },
  { name: 'first keeps objects whole', spec: { name: 'f', fn: 'first', field: 'v' }, rows: [[{ v: { k: [1, 2] } }, 5]], expected: { k: [1, 2] } },
  { name: 'last of nothing is null', spec: { name: 'l', fn: 'last', field: 'v' }, rows: [], expected: null },
  {
    name: 'count_distinct tells 1 from "1" and skips null',
    spec: { name: 'd', fn: 'count_distinct', field: 'v' },
    rows: rowsOf('v', ['a', 'b', 'a', 1, '1', null, 1]),
    expected: 4,
  },
  // Sorted [1, 2, 3, 4, 5]: rank ⌊q·4⌋.
  { name: 'percentile 0.5', spec: { name: 'p', fn: 'percentile', field: 'v', q: 0.5 }, rows: rowsOf('v', [5, 1, 4, 2, 3]), expected: 3 },
  { name: 'percentile 0.9', spec: { name: 'p', fn: 'percentile', field: 'v', q: 0.9 }, rows: rowsOf('v', [5, 1, 4, 2, 3]), expected: 4 },
  { name: 'percentile 0', spec: { name: 'p', fn: 'percentile', field: 'v', q: 0 }, rows: rowsOf('v', [5, 1, 4, 2, 3]), expected: 1 },
  { name: 'percentile 1', spec: { name: 'p', fn: 'percentile', field: 'v', q: 1 }, rows: rowsOf('v', [5, 1, 4, 2, 3]), expected: 5 },
  // Sorted [10, 20, 30, 40]: rank ⌊0.5·3⌋ = 1.
  {
    name: 'percentile of an even count takes the lower rank',
    spec: { name: 'p', fn: 'percentile', field: 'v', q: 0.5 },
    rows: rowsOf('v', [40, 10, 30, 20]),
    expected: 20,
  },
  { name: 'percentile of nothing is null', spec: { name: 'p', fn: 'percentile', field: 'v', q: 0.5 }, rows: [], expected: null },
  {
    name: 'a computed value instead of a field',
    spec: { name: 's', fn: 'sum', value: (record) => (record.price as number) * (record.qty as number) },
    rows: [
      [{ price: 2, qty: 3 }, 1],
      [{ price: 0.5, qty: 4 }, 2],
    ],
    expected: 8,
  },
];

describe('aggregates', () => {
  it.each(cases)('$name', ({ spec, rows, expected }) => {
    expect(accumulate(compile(spec), rows).result()).toEqual(expected);
  });

  it.each(cases)('$name: merging any split gives the same result', ({ spec, rows, expected }) => {
    const aggregate = compile(spec);
    for (let split = 0; split <= rows.length; split++) {
      const head = accumulate(aggregate, rows.slice(0, split));
      head.merge(accumulate(aggregate, rows.slice(split)));
      expect(head.result()).toEqual(expected);
    }
  });

  it.each(cases)('$name: survives a JSON round trip in the middle', ({ spec, rows, expected }) => {
    const aggregate = compile(spec);
    const half = Math.floor(rows.length / 2);
    const restored = roundTrip(aggregate, accumulate(aggregate, rows.slice(0, half)).toJSON());
    for (const [record, timestamp] of rows.slice(half)) {
      const input = aggregate.read(record);
      if (input !== undefined) restored.add(input, timestamp);
    }
    expect(restored.result()).toEqual(expected);
  });

  it.each<[AggregateSpec, Record<string, unknown>, string]>([
    [{ name: 'txn_sum', fn: 'sum', field: 'amount' }, { amount: 'abc' }, 'aggregate txn_sum: amount is "abc", not a number'],
    [{ name: 'm', fn: 'max', field: 'v' }, { v: true }, 'aggregate m: v is true, not a number'],
    [{ name: 'p', fn: 'percentile', field: 'v', q: 0.5 }, { v: [1] }, 'aggregate p: v is [1], not a number'],
    [
      {
        name: 'x',
        fn: 'sum',
        value: () => {
          throw new Error('no such field: price');
        },
      },
      {},
      'aggregate x: no such field: price',
    ],
  ])('refuses a record that %j cannot aggregate, naming it', (spec, record, message) => {
    expect(() => compile(spec).read(record)).toThrow(new AggregateInputError(message));
  });

  it.each<[AggregateSpec[], string]>([
    [[], 'a window needs at least one aggregate, such as { name: "count", fn: "count" }'],
    [
      [
        { name: 'a', fn: 'count' },
        { name: 'a', fn: 'sum', field: 'v' },
      ],
      'aggregate a is named twice; give each aggregate its own name',
    ],
    [[{ name: '', fn: 'count' }], 'every aggregate needs a name: the result field it fills'],
    [[{ name: 's', fn: 'sum' }], 'aggregate s: sum needs a field (or a value) to aggregate'],
    [[{ name: 'p', fn: 'percentile', field: 'v' }], 'aggregate p: percentile needs q, the quantile between 0 and 1 (0.99 for p99)'],
    [[{ name: 'p', fn: 'percentile', field: 'v', q: 99 }], 'aggregate p: a percentile needs q between 0 and 1 (0.99 for p99), not 99'],
    [[{ name: 'c', fn: 'count', q: 0.5 }], 'aggregate c: q is only for percentile; remove it from count'],
    [[{ name: 'c', fn: 'sum', field: 'v', value: () => 1 }], 'aggregate c: give either a field or a value, not both'],
    [
      [{ name: 'm', fn: 'median' as 'count' }],
      'aggregate m: "median" is not an aggregate function; use one of count, sum, min, max, avg, first, last, count_distinct, percentile',
    ],
  ])('refuses the specs %j', (specs, message) => {
    expect(() => compileAggregates(specs)).toThrow(new AggregateSpecError(message));
  });

  it.each<[AggregateSpec, Json]>([
    [{ name: 'n', fn: 'count' }, 'three'],
    [{ name: 's', fn: 'sum', field: 'v' }, '12'],
    [{ name: 'a', fn: 'avg', field: 'v' }, [1]],
    [{ name: 'f', fn: 'first', field: 'v' }, { value: 1 }],
    [{ name: 'd', fn: 'count_distinct', field: 'v' }, { values: [1] }],
    [{ name: 'p', fn: 'percentile', field: 'v', q: 0.5 }, { values: ['1'] }],
  ])('refuses to restore %j from %j', (spec, json) => {
    expect(() => compile(spec).restore(json)).toThrow('is not one this version wrote; restore from a snapshot of the same job');
  });
});

describe('the aggregate functions', () => {
  it('are the ones the StreamJob CRD allows, no more and no fewer', () => {
    const schema = crdManifest('StreamJob').spec.versions[0]!.schema.openAPIV3Schema;
    const fn = schema.properties!['spec']!.properties!['pipeline']!.items!.properties!['aggregate']!.items!.properties!['fn']!;
    expect([...AGGREGATE_FUNCTIONS].sort()).toEqual([...(fn.enum as string[])].sort());
  });
});
