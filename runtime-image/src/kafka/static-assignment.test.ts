import { ownedPartitions } from './static-assignment.js';

describe('static partition ownership', () => {
  it('gives pod i of N the partitions p with p mod N = i, each partition to one pod', () => {
    expect(ownedPartitions(6, 0, 3)).toEqual([0, 3]);
    expect(ownedPartitions(6, 1, 3)).toEqual([1, 4]);
    expect(ownedPartitions(6, 2, 3)).toEqual([2, 5]);
    expect(ownedPartitions(2, 2, 3)).toEqual([]);
    expect(ownedPartitions(4, 0, 1)).toEqual([0, 1, 2, 3]);
  });

  it('refuses an ordinal outside the parallelism', () => {
    expect(() => ownedPartitions(6, 3, 3)).toThrow(/between 0 and 2/);
    expect(() => ownedPartitions(6, 0, 0)).toThrow(/parallelism/);
  });
});
