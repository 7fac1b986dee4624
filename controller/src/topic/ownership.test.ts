// Which of several Topics for one Kafka topic owns it: the oldest, then the one already holding it, then by namespace/name.
import type { Topic } from '@sluice/crds';
import { kafkaTopicName, owningTopic } from './reconciler.js';

function topic(name: string, created: string, extra: Partial<Topic> = {}): Topic {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'Topic',
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, creationTimestamp: created },
    spec: { topicName: 'payments' },
    ...extra,
  };
}

describe('owningTopic', () => {
  it('gives the Kafka topic to the oldest Topic', () => {
    const older = topic('b', '2026-01-01T00:00:00Z');
    expect(owningTopic([topic('a', '2026-01-01T00:00:05Z'), older])).toBe(older);
  });

  it('within one creation second keeps it with the Topic whose status already holds it', () => {
    const incumbent = topic('z', '2026-01-01T00:00:00Z', { status: { topicName: 'payments' } });
    expect(owningTopic([topic('a', '2026-01-01T00:00:00Z'), incumbent])).toBe(incumbent);
  });

  it('otherwise decides by namespace/name, so the choice never flips', () => {
    const first = topic('a', '2026-01-01T00:00:00Z');
    expect(owningTopic([topic('b', '2026-01-01T00:00:00Z'), first])).toBe(first);
  });
});

describe('kafkaTopicName', () => {
  it('is spec.topicName when set, else metadata.name', () => {
    expect(kafkaTopicName(topic('a', '2026-01-01T00:00:00Z'))).toBe('payments');
    expect(kafkaTopicName({ ...topic('a', '2026-01-01T00:00:00Z'), spec: {} })).toBe('a');
  });
});
