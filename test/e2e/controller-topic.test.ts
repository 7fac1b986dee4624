// The Topic reconciler against the real API server and Kafka: create, update, drift, refusals, conflict, pause and both deletion policies.
import type { RunningManager } from '@sluice/controller';
import kafkajs, { type Admin } from 'kafkajs';
import {
  cleanNamespace,
  condition,
  core,
  create,
  eventually,
  gone,
  kafkaAdmin,
  patch,
  prepareNamespace,
  randomName,
  read,
  remove,
  runController,
  until,
} from './controller/harness.js';

const { ConfigResourceTypes, ConfigSource } = kafkajs;

let namespace: string;
let admin: Admin;
let controller: RunningManager;

beforeAll(async () => {
  namespace = await prepareNamespace('sluice-topic');
  admin = await kafkaAdmin();
  controller = await runController(namespace);
});

afterAll(async () => {
  await cleanNamespace(namespace);
  await controller?.stop();
  await admin?.disconnect();
});

async function partitionsOf(topic: string): Promise<number | undefined> {
  const { topics } = await admin.fetchTopicMetadata();
  return topics.find((candidate) => candidate.name === topic)?.partitions.length;
}

/** The topic's own overrides in Kafka (not broker defaults). */
async function overridesOf(topic: string): Promise<Record<string, string>> {
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return Object.fromEntries(
    resources[0]!.configEntries.filter((entry) => entry.configSource === ConfigSource.TOPIC_CONFIG).map((entry) => [entry.configName, entry.configValue]),
  );
}

async function exists(topic: string): Promise<boolean> {
  return (await admin.listTopics()).includes(topic);
}

describe('the Topic reconciler', () => {
  it('creates the Kafka topic with its partitions, replicas and config and reports it Ready', async () => {
    const name = randomName('orders');
    await create('topics', namespace, {
      metadata: { name },
      spec: { partitions: 3, replicas: 1, config: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } },
    });
    const topic = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(await partitionsOf(name)).toBe(3);
    expect(await overridesOf(name)).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
    expect(topic.status).toMatchObject({ topicName: name, partitions: 3, replicas: 1, observedGeneration: topic.metadata.generation });
    expect(topic.metadata.finalizers).toContain('sluice.dev/topic');
    expect(topic.status?.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const reasons = await eventually('the Created and Ready events', async () => {
      const { items } = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
      const found = items.map((event) => event.reason).sort();
      return found.includes('Created') && found.includes('Ready') ? found : undefined;
    });
    expect(reasons).toEqual(['Created', 'Ready']);
  });

  it('creates again a topic deleted behind its back, and reports its new topic id', async () => {
    const name = randomName('recreated');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 2 } });
    const first = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    await admin.deleteTopics({ topics: [name] });
    const second = await eventually('the topic to be created again with a new id', async () => {
      const topic = await read('topics', namespace, name);
      const id = topic?.status?.topicId;
      return id !== undefined && id !== first.status?.topicId && (await partitionsOf(name)) === 2 ? topic : undefined;
    });
    expect(condition(second, 'Ready')?.status).toBe('True');
  });

  it('raises partitions, changes a config value and resets a dropped key to its default', async () => {
    const name = randomName('payments');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 2, config: { 'retention.ms': '3600000', 'max.message.bytes': '200000' } } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    // A merge patch with null removes the key from spec.config.
    await patch('topics', namespace, name, { spec: { partitions: 5, config: { 'retention.ms': '7200000', 'max.message.bytes': null } } });
    const topic = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(topic.metadata.generation).toBe(2);
    expect(topic.status?.partitions).toBe(5);
    expect(await partitionsOf(name)).toBe(5);
    expect(await overridesOf(name)).toEqual({ 'retention.ms': '7200000' });
  });

  it('corrects a config change made behind its back', async () => {
    const name = randomName('drift');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 1, config: { 'retention.ms': '3600000' } } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name,
          configEntries: [
            { name: 'retention.ms', value: '60000' },
            { name: 'segment.ms', value: '600000' },
          ],
        },
      ],
    });
    expect(await overridesOf(name)).toEqual({ 'retention.ms': '60000', 'segment.ms': '600000' });
    await eventually('the config to converge back', async () => {
      const overrides = await overridesOf(name);
      return overrides['retention.ms'] === '3600000' && Object.keys(overrides).length === 1 ? overrides : undefined;
    });
  });

  it('adopts an existing topic and refuses a partition decrease, leaving the topic untouched', async () => {
    const name = randomName('existing');
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 4, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 2, config: { 'retention.ms': '3600000' } } });
    const refused = await until('topics', namespace, name, 'Ready', 'False', 'PartitionDecreaseNotSupported');
    expect(condition(refused, 'Ready')?.message).toMatch(/has 4 partitions and the spec asks for 2/);
    expect(refused.status?.partitions).toBe(4);
    expect(await partitionsOf(name)).toBe(4);
    expect(await overridesOf(name)).toEqual({ 'retention.ms': '60000' });
    // The API server allows raising partitions; at 4 the spec no longer asks for a decrease and the topic is adopted.
    await patch('topics', namespace, name, { spec: { partitions: 4 } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(await overridesOf(name)).toEqual({ 'retention.ms': '3600000' });
  });

  it('names the Kafka topic by spec.topicName when Kubernetes cannot hold the name', async () => {
    const name = randomName('upper');
    const topicName = `Sluice_${name}.Events`;
    await create('topics', namespace, { metadata: { name }, spec: { topicName, partitions: 1 } });
    const topic = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(topic.status?.topicName).toBe(topicName);
    expect(await exists(topicName)).toBe(true);
  });

  it('gives the Kafka topic to the older of two Topics and a ResourceConflict to the other, until the older goes', async () => {
    const topicName = randomName('shared');
    const older = randomName('first');
    const younger = randomName('second');
    await create('topics', namespace, { metadata: { name: older }, spec: { topicName, partitions: 2 } });
    await until('topics', namespace, older, 'Ready', 'True', 'Ready');
    await create('topics', namespace, { metadata: { name: younger }, spec: { topicName, partitions: 3 } });
    const conflicted = await until('topics', namespace, younger, 'Ready', 'False', 'ResourceConflict');
    expect(condition(conflicted, 'Ready')?.message).toContain(`${namespace}/${older}`);
    expect(await partitionsOf(topicName)).toBe(2);
    await remove('topics', namespace, older);
    await gone('topics', namespace, older);
    await until('topics', namespace, younger, 'Ready', 'True', 'Ready');
    expect(await partitionsOf(topicName)).toBe(3);
  });

  it('changes nothing in Kafka while paused, says so, and converges once unpaused', async () => {
    const name = randomName('paused');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 1 } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    await patch('topics', namespace, name, { metadata: { annotations: { 'sluice.dev/paused': 'true' } }, spec: { partitions: 3 } });
    const paused = await eventually('the Paused condition', async () => {
      const topic = await read('topics', namespace, name);
      return condition(topic, 'Paused')?.reason === 'ReconciliationPaused' ? topic : undefined;
    });
    expect(paused.status?.observedGeneration).toBe(1);
    expect(await partitionsOf(name)).toBe(1);
    await patch('topics', namespace, name, { metadata: { annotations: { 'sluice.dev/paused': null } } });
    const resumed = await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    expect(condition(resumed, 'Paused')).toBeUndefined();
    expect(await partitionsOf(name)).toBe(3);
  });

  it('keeps the Kafka topic when a Topic with deletionPolicy retain is deleted', async () => {
    const name = randomName('kept');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 1 } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    await remove('topics', namespace, name);
    await gone('topics', namespace, name);
    expect(await exists(name)).toBe(true);
  });

  it('deletes the Kafka topic when a Topic with deletionPolicy delete is deleted', async () => {
    const name = randomName('dropped');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 1, deletionPolicy: 'delete' } });
    await until('topics', namespace, name, 'Ready', 'True', 'Ready');
    await remove('topics', namespace, name);
    await gone('topics', namespace, name);
    await eventually('the Kafka topic to be deleted', async () => ((await exists(name)) ? undefined : true));
  });
});
