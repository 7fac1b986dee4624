// Converging a topic's config: set what differs, reset the overrides the spec dropped, leave broker defaults alone.
import { describeDiff, diffConfig, isEmpty } from './config-diff.js';
import type { TopicConfigEntry } from './kafka-topics.js';

const current = new Map<string, TopicConfigEntry>([
  ['retention.ms', { value: '60000', override: true }],
  ['segment.ms', { value: '600000', override: true }],
  ['cleanup.policy', { value: 'delete', override: false }],
  ['max.message.bytes', { value: '1048588', override: false }],
]);

describe('diffConfig', () => {
  it('sets the keys whose value differs and resets the overrides the spec does not name', () => {
    const diff = diffConfig({ 'retention.ms': '3600000', 'cleanup.policy': 'delete', 'min.insync.replicas': '1' }, current);
    expect(diff).toEqual({ set: ['min.insync.replicas', 'retention.ms'], reset: ['segment.ms'] });
    expect(describeDiff(diff)).toBe('set min.insync.replicas, retention.ms; reset to default segment.ms');
  });

  it('finds nothing to do when the overrides are the spec', () => {
    expect(isEmpty(diffConfig({ 'retention.ms': '60000', 'segment.ms': '600000' }, current))).toBe(true);
  });
});
