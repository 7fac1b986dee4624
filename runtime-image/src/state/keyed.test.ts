import { MemoryKeyedState } from './keyed.js';

describe('MemoryKeyedState', () => {
  it('gets, puts, deletes and scans its entries', () => {
    const state = new MemoryKeyedState<number>([['a', 1]]);
    state.put('b', 2);
    state.put('a', 3);
    state.delete('missing');
    expect(state.get('a')).toBe(3);
    expect([...state.entries()]).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
    state.delete('a');
    expect(state.get('a')).toBeUndefined();
    expect([...state.entries()]).toEqual([['b', 2]]);
  });

  it('hands out the object it holds, so a change is seen before the next put', () => {
    const state = new MemoryKeyedState<{ n: number }>();
    state.put('k', { n: 1 });
    state.get('k')!.n += 1;
    expect(state.get('k')).toEqual({ n: 2 });
  });
});
