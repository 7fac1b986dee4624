// The lake's key names and what a start decides about the staged chunks it finds.
import { chunkKey, committedChunkOf, finalKey, hivePartition, planRecovery, rollMarkerKey } from './layout.js';

const prefix = 'features/velocity/';

describe('the lake layout', () => {
  it('stages chunks per source partition under _staging, their sequences padded so a listing sorts them', () => {
    expect(chunkKey(prefix, 2, { sequence: 7, attempt: 'a1b2c3d4' })).toBe('features/velocity/_staging/2/000000000007-a1b2c3d4.jsonl');
    expect(rollMarkerKey(prefix, 2, 7, 12)).toBe('features/velocity/_staging/2/rolled-000000000007-000000000012');
  });

  it('partitions by the event time in UTC, and names a final file by the chunks rolled into it', () => {
    expect(hivePartition(Date.parse('2026-12-07T10:59:59.999Z'))).toBe('dt=2026-12-07/hr=10');
    expect(hivePartition(Date.parse('2026-12-07T23:00:00Z'))).toBe('dt=2026-12-07/hr=23');
    const chunks = [
      { sequence: 3, attempt: 'aaaa0000' },
      { sequence: 5, attempt: 'bbbb1111' },
    ];
    expect(finalKey(prefix, 'dt=2026-12-07/hr=10', 1, chunks, 'parquet')).toBe(
      'features/velocity/dt=2026-12-07/hr=10/part-1-000000000003-000000000005-bbbb1111.parquet',
    );
  });

  it('reads the committed chunk from the offset metadata, and nothing from metadata without one', () => {
    expect(committedChunkOf({ watermark: 5, 's3:lake': { sequence: 4, attempt: 'a1' } }, 'lake')).toEqual({ sequence: 4, attempt: 'a1' });
    expect(committedChunkOf({ watermark: 5 }, 'lake')).toBeUndefined();
    expect(committedChunkOf({ 's3:lake': { sequence: '4' } }, 'lake')).toBeUndefined();
  });
});

describe('a start, given what the last committed transaction recorded', () => {
  const key = (sequence: number, attempt: string): string => chunkKey(prefix, 0, { sequence, attempt });

  it('rolls the committed attempt’s chunks up to the committed sequence, and drops the aborted transaction’s after it', () => {
    const plan = planRecovery([key(4, 'live'), key(5, 'live'), key(6, 'live')], { sequence: 5, attempt: 'live' });
    expect(plan.roll.map((chunk) => chunk.sequence)).toEqual([4, 5]);
    expect(plan.discard).toEqual([key(6, 'live')]);
    expect(plan.finishedRoll).toBeUndefined();
  });

  it('drops a fenced zombie’s chunk of the same sequence, told apart by its attempt', () => {
    const plan = planRecovery([key(5, 'zombie'), key(5, 'live')], { sequence: 5, attempt: 'live' });
    expect(plan.roll.map((chunk) => chunk.key)).toEqual([key(5, 'live')]);
    expect(plan.discard).toEqual([key(5, 'zombie')]);
  });

  it('drops every chunk of a partition that never committed one', () => {
    const plan = planRecovery([key(1, 'first')], undefined);
    expect(plan.roll).toEqual([]);
    expect(plan.discard).toEqual([key(1, 'first')]);
  });

  it('after a roll’s marker, only deletes that roll’s chunks: its final files are written', () => {
    const marker = rollMarkerKey(prefix, 0, 3, 5);
    const plan = planRecovery([key(4, 'live'), key(5, 'live'), key(6, 'live'), marker], { sequence: 6, attempt: 'live' });
    expect(plan.finishedRoll).toEqual({ marker, first: 3, last: 5 });
    expect(plan.discard).toEqual([key(4, 'live'), key(5, 'live')]);
    expect(plan.roll.map((chunk) => chunk.sequence)).toEqual([6]);
  });
});
