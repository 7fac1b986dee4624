// Savepoint retention by count and age: the newest always stays, and so does one a deployment restores from.
import type { Savepoint } from '@sluice/crds';
import { defaultRetainedSavepoints, retain } from './savepoint-retention.js';

const now = new Date('2026-11-27T12:00:00Z');
const hoursAgo = (hours: number, location: string): Savepoint => ({
  location,
  timestamp: new Date(now.getTime() - hours * 3_600_000).toISOString(),
  trigger: 'periodic',
});
const newestFirst = [hoursAgo(1, 's3://b/sp-1'), hoursAgo(2, 's3://b/sp-2'), hoursAgo(30, 's3://b/sp-3'), hoursAgo(50, 's3://b/sp-4')];
const locations = (list: readonly Savepoint[]): string[] => list.map((savepoint) => savepoint.location);

describe('savepoint retention', () => {
  it('keeps the newest count savepoints', () => {
    const { kept, removed } = retain(newestFirst, { count: 2 }, now);
    expect(locations(kept)).toEqual(['s3://b/sp-1', 's3://b/sp-2']);
    expect(locations(removed)).toEqual(['s3://b/sp-3', 's3://b/sp-4']);
  });

  it('drops savepoints older than maxAge', () => {
    expect(locations(retain(newestFirst, { maxAge: '24h' }, now).kept)).toEqual(['s3://b/sp-1', 's3://b/sp-2']);
  });

  it('always keeps the newest, however old', () => {
    expect(locations(retain([hoursAgo(100, 's3://b/old')], { maxAge: '1h', count: 1 }, now).kept)).toEqual(['s3://b/old']);
  });

  it('never removes a savepoint a deployment restores from', () => {
    const { kept } = retain(newestFirst, { count: 1 }, now, ['s3://b/sp-3']);
    expect(locations(kept)).toEqual(['s3://b/sp-1', 's3://b/sp-3']);
  });

  it(`keeps ${defaultRetainedSavepoints} without a retention count`, () => {
    const many = Array.from({ length: defaultRetainedSavepoints + 3 }, (_, index) => hoursAgo(index, `s3://b/sp-${index}`));
    expect(retain(many, undefined, now).kept).toHaveLength(defaultRetainedSavepoints);
  });
});
