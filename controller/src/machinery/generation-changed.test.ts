// Which watch events a self-driving reconciler hears of: a new object or generation and a deletion, not its own status writes; and what it remembers.
import type { ObjectMeta } from '@sluice/crds';
import { GenerationChanged } from './generation-changed.js';

const job = (metadata: ObjectMeta) => ({ metadata: { uid: 'u-1', generation: 1, ...metadata } });

describe('GenerationChanged', () => {
  it('lets through a new object and a new generation, not a status write of the same generation', () => {
    const predicate = new GenerationChanged();
    expect(predicate.admits(job({}), 'add')).toBe(true);
    expect(predicate.admits(job({ resourceVersion: '2' }), 'update')).toBe(false);
    expect(predicate.admits(job({ generation: 2 }), 'update')).toBe(true);
  });

  it('lets through a deletion begun and done, and forgets the object once it is gone', () => {
    const predicate = new GenerationChanged();
    predicate.admits(job({}), 'add');
    predicate.admits(job({ uid: 'u-2' }), 'add');
    expect(predicate.admits(job({ deletionTimestamp: '2026-01-01T00:00:00Z' }), 'update')).toBe(true);
    expect(predicate.admits(job({}), 'delete')).toBe(true);
    expect(predicate.size).toBe(1);
  });
});
