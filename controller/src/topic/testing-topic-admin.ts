// An in-memory Kafka for unit tests of the Topic reconciler: topics with partitions, replicas and config overrides, and a log of the changes asked of it.
import type { KafkaTopicState, NewTopic, TopicAdmin } from './kafka-topics.js';

export interface TestingTopic {
  partitions: number;
  replicas: number;
  overrides: Record<string, string>;
  id: string;
}

export class TestingTopicAdmin implements TopicAdmin {
  readonly topics = new Map<string, TestingTopic>();
  /** The changes asked for, as `create name`, `partitions name N`, `config name`, `delete name`. */
  readonly changes: string[] = [];
  /** When set, every call fails with it (Kafka unreachable). */
  failure: Error | undefined;
  private ids = 0;

  describe(name: string): Promise<KafkaTopicState | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const topic = this.topics.get(name);
    if (topic === undefined) return Promise.resolve(undefined);
    const config = new Map(Object.entries(topic.overrides).map(([key, value]) => [key, { value, override: true }]));
    if (!config.has('cleanup.policy')) config.set('cleanup.policy', { value: 'delete', override: false });
    return Promise.resolve({ name, id: topic.id, partitions: topic.partitions, replicas: topic.replicas, config });
  }

  create(name: string, topic: NewTopic): Promise<void> {
    return this.change(`create ${name}`, () => {
      this.topics.set(name, { partitions: topic.partitions, replicas: topic.replicas ?? 1, overrides: { ...topic.config }, id: `id-${++this.ids}` });
    });
  }

  raisePartitions(name: string, count: number): Promise<void> {
    return this.change(`partitions ${name} ${count}`, () => {
      this.existing(name).partitions = count;
    });
  }

  replaceConfig(name: string, config: Record<string, string>): Promise<void> {
    return this.change(`config ${name}`, () => {
      this.existing(name).overrides = { ...config };
    });
  }

  delete(name: string): Promise<void> {
    return this.change(`delete ${name}`, () => {
      this.topics.delete(name);
    });
  }

  private change(what: string, apply: () => void): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.changes.push(what);
    apply();
    return Promise.resolve();
  }

  private existing(name: string): TestingTopic {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new Error(`topic ${name} does not exist`);
    return topic;
  }
}
