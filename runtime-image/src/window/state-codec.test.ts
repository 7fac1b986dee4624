// Window state across an upgrade that changes the aggregates: kept by name, added ones start empty, dropped ones are forgotten.
import { compileAggregates } from '../aggregate/aggregates.js';
import { windowStateCodec } from './operator.js';

describe('window state written by one spec and read by another', () => {
  const before = compileAggregates([
    { name: 'txn_count', fn: 'count' },
    { name: 'txn_sum', fn: 'sum', field: 'amount' },
  ]);
  const count = before[0]!.create();
  const sum = before[1]!.create();
  for (const amount of [5, 7]) {
    count.add(amount, 0);
    sum.add(amount, 0);
  }
  const stored = windowStateCodec(before).encode({ key: ['c1'], window: { start: 0, end: 300_000 }, accumulators: [count, sum] });

  it('keeps the aggregates both specs have, starts an added one empty and forgets a dropped one', () => {
    const after = compileAggregates([
      { name: 'txn_count', fn: 'count' },
      { name: 'txn_max', fn: 'max', field: 'amount' },
    ]);
    const entry = windowStateCodec(after).decode(stored);
    expect(entry.key).toEqual(['c1']);
    expect(entry.window).toEqual({ start: 0, end: 300_000 });
    expect(entry.accumulators.map((accumulator) => accumulator.result())).toEqual([2, null]);
  });

  it('still refuses state that is not a window entry', () => {
    expect(() => windowStateCodec(before).decode({ key: 'c1' })).toThrow(/is not one this version wrote/);
  });
});
