// The Topic reconciler's decisions with Kafka and the API server replaced by in-memory ones: what it changes, what it refuses, what it writes.
import type { Topic, TopicSpec } from '@sluice/crds';
import { pino } from 'pino';
import type { EventRecorder } from '../machinery/events.js';
import { ManualClock } from '../machinery/manual-clock.js';
import { TerminalError } from '../machinery/reconciler.js';
import { TestingResources } from '../machinery/testing-resources.js';
import { TestingTopicAdmin } from './testing-topic-admin.js';
import { TopicReconciler, topicFinalizer } from './reconciler.js';

const key = { namespace: 'payments', name: 'transactions' };

function setup(watched: Topic[] = []) {
  const topics = new TestingResources<Topic>();
  const admin = new TestingTopicAdmin();
  const events: string[] = [];
  const recorder: EventRecorder = { record: (_object, type, reason) => events.push(`${type} ${reason}`) };
  const reconciler = new TopicReconciler({
    topics,
    watchedTopics: () => watched,
    admin,
    events: recorder,
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
  });
  const apply = (spec: TopicSpec, annotations?: Record<string, string>): Topic =>
    topics.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { ...key, annotations }, spec });
  return { topics, admin, events, reconciler, apply };
}

describe('TopicReconciler', () => {
  it('puts its finalizer on before it creates the topic, then reports Ready for the generation', async () => {
    const { topics, admin, events, reconciler, apply } = setup();
    apply({ partitions: 3, config: { 'retention.ms': '1000' } });
    await reconciler.reconcile(key);
    expect(topics.writes.map((write) => write.kind)).toEqual(['finalizers', 'status']);
    expect(topics.writes[0]!.object.metadata.finalizers).toEqual([topicFinalizer]);
    expect(admin.changes).toEqual(['create transactions']);
    const topic = await topics.get(key);
    expect(topic?.status).toMatchObject({ topicName: 'transactions', topicId: 'id-1', partitions: 3, replicas: 1, observedGeneration: 1 });
    expect(topic?.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Ready', observedGeneration: 1 });
    expect(events).toEqual(['Normal Created', 'Normal Ready']);
  });

  it('changes and writes nothing when run again on a converged topic', async () => {
    const { topics, admin, reconciler, apply } = setup();
    apply({ partitions: 1 });
    await reconciler.reconcile(key);
    const writes = topics.writes.length;
    await reconciler.reconcile(key);
    expect(topics.writes.length).toBe(writes);
    expect(admin.changes).toEqual(['create transactions']);
  });

  it('raises partitions and replaces the config only when something differs', async () => {
    const { admin, reconciler, apply } = setup();
    admin.topics.set('transactions', { partitions: 2, replicas: 1, overrides: { 'retention.ms': '1000', 'segment.ms': '5000' }, id: 'x' });
    apply({ partitions: 4, config: { 'retention.ms': '1000' } });
    await reconciler.reconcile(key);
    expect(admin.changes).toEqual(['partitions transactions 4', 'config transactions']);
    expect(admin.topics.get('transactions')?.overrides).toEqual({ 'retention.ms': '1000' });
  });

  it('refuses a partition decrease with a terminal error and a condition, touching nothing in Kafka', async () => {
    const { topics, admin, events, reconciler, apply } = setup();
    admin.topics.set('transactions', { partitions: 6, replicas: 1, overrides: { 'retention.ms': '5' }, id: 'x' });
    apply({ partitions: 3, config: { 'retention.ms': '1000' } });
    await expect(reconciler.reconcile(key)).rejects.toBeInstanceOf(TerminalError);
    expect(admin.changes).toEqual([]);
    const ready = (await topics.get(key))?.status?.conditions?.find((condition) => condition.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'PartitionDecreaseNotSupported' });
    expect(events).toEqual(['Warning PartitionDecreaseNotSupported']);
  });

  it('leaves Kafka alone while paused and does not claim the new generation', async () => {
    const { topics, admin, reconciler, apply } = setup();
    apply({ partitions: 1 }, { 'sluice.dev/paused': 'true' });
    await reconciler.reconcile(key);
    expect(admin.changes).toEqual([]);
    const status = (await topics.get(key))?.status;
    expect(status?.observedGeneration).toBeUndefined();
    expect(status?.conditions).toMatchObject([{ type: 'Paused', status: 'True', reason: 'ReconciliationPaused' }]);
  });

  it('reports a Kafka failure in the condition and throws it for a retry with backoff', async () => {
    const { topics, admin, reconciler, apply } = setup();
    apply({ partitions: 1 });
    admin.failure = new Error('Connection refused');
    const error: unknown = await reconciler.reconcile(key).catch((thrown: unknown) => thrown);
    expect(error).toBe(admin.failure);
    expect((await topics.get(key))?.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'KafkaError' });
  });

  it.each([
    ['delete', ['create transactions', 'delete transactions'], false],
    ['retain', ['create transactions'], true],
  ] as const)('under deletionPolicy %s removes its finalizer and leaves Kafka as the policy says', async (deletionPolicy, changes, kept) => {
    const { topics, admin, reconciler, apply } = setup();
    apply({ partitions: 1, deletionPolicy });
    await reconciler.reconcile(key);
    topics.delete(key);
    await reconciler.reconcile(key);
    expect(await topics.get(key)).toBeUndefined();
    expect(admin.changes).toEqual(changes);
    expect(admin.topics.has('transactions')).toBe(kept);
  });

  it('gives way with ResourceConflict to an older Topic for the same Kafka topic', async () => {
    const older: Topic = {
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'Topic',
      metadata: { namespace: 'other', name: 'first', uid: 'old', creationTimestamp: '2025-12-31T00:00:00Z' },
      spec: { topicName: 'transactions' },
    };
    const { topics, admin, reconciler, apply } = setup([older]);
    apply({ partitions: 1 });
    await expect(reconciler.reconcile(key)).rejects.toBeInstanceOf(TerminalError);
    expect(admin.changes).toEqual([]);
    expect((await topics.get(key))?.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'ResourceConflict' });
  });
});
