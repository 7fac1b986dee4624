// Condition helpers: lastTransitionTime moves only when the status does.
import { findCondition, hasCondition, removeCondition, setCondition } from './conditions.js';

const t0 = new Date('2026-03-01T10:00:00.250Z');
const t1 = new Date('2026-03-01T10:05:00Z');

describe('setCondition', () => {
  it('appends a new condition stamped with the time in whole seconds', () => {
    const conditions = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', observedGeneration: 1 }, t0);
    expect(conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-03-01T10:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime when only the reason, message or generation change', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Creating', message: 'a', observedGeneration: 1 }, t0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'KafkaError', message: 'b', observedGeneration: 2 }, t1);
    expect(second[0]).toMatchObject({ reason: 'KafkaError', message: 'b', observedGeneration: 2, lastTransitionTime: '2026-03-01T10:00:00Z' });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Creating', message: 'a' }, t0);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'Ready', message: 'b' }, t1);
    expect(second[0]!.lastTransitionTime).toBe('2026-03-01T10:05:00Z');
  });

  it('replaces only the condition of its type and leaves the input untouched', () => {
    const first = setCondition(
      setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Ready', message: '' }, t0),
      { type: 'Paused', status: 'True', reason: 'ReconciliationPaused', message: '' },
      t0,
    );
    const second = setCondition(first, { type: 'Paused', status: 'False', reason: 'Resumed', message: '' }, t1);
    expect(second.map((condition) => condition.type)).toEqual(['Ready', 'Paused']);
    expect(findCondition(first, 'Paused')?.status).toBe('True');
    expect(hasCondition(second, 'Paused', 'False', 'Resumed')).toBe(true);
    expect(hasCondition(second, 'Ready', 'False')).toBe(false);
    expect(removeCondition(second, 'Paused').map((condition) => condition.type)).toEqual(['Ready']);
  });
});
