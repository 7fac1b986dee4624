// The Kafka side of a Topic, behind an interface the reconciler is given: describe (batched), create, add partitions, replace config, delete.
import kafkajs, { type Admin } from 'kafkajs';
import type { TopicIds } from './topic-ids.js';

// kafkajs is CommonJS and Node cannot see these two enums as named exports.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface TopicConfigEntry {
  value: string | null;
  /** True when the topic itself overrides it (what the spec owns); false for broker or built-in defaults. */
  override: boolean;
}

export interface KafkaTopicState {
  name: string;
  /** Kafka's id of the topic, new each time a topic of this name is created; unknown on brokers older than 2.8. */
  id?: string;
  partitions: number;
  replicas: number;
  config: Map<string, TopicConfigEntry>;
}

export interface NewTopic {
  partitions: number;
  replicas?: number;
  config: Record<string, string>;
}

export interface TopicAdmin {
  /** The topic as Kafka has it, or undefined when it does not exist. */
  describe(name: string): Promise<KafkaTopicState | undefined>;
  create(name: string, topic: NewTopic): Promise<void>;
  raisePartitions(name: string, count: number): Promise<void>;
  /**
   * Makes the topic's overrides exactly `config`: what differs is set and any override not in it goes back to its
   * default. One AlterConfigs request (not incremental), which is what kafkajs offers and what a declarative spec means.
   */
  replaceConfig(name: string, config: Record<string, string>): Promise<void>;
  delete(name: string): Promise<void>;
}

/** TopicAdmin on a connected kafkajs admin; describes that arrive in the same tick share one Metadata and one DescribeConfigs request. */
export class KafkaTopicAdmin implements TopicAdmin {
  private pending: { name: string; resolve: (state: KafkaTopicState | undefined) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    private readonly admin: Admin,
    private readonly topicIds?: TopicIds,
  ) {}

  describe(name: string): Promise<KafkaTopicState | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.describeBatch());
      this.pending.push({ name, resolve, reject });
    });
  }

  async create(name: string, topic: NewTopic): Promise<void> {
    await this.admin.createTopics({
      // Kafka's controller has the topic when this returns; waiting for leaders as well doubled the time to Ready, and clients retry until leaders are elected.
      waitForLeaders: false,
      topics: [
        {
          topic: name,
          numPartitions: topic.partitions,
          ...(topic.replicas === undefined ? {} : { replicationFactor: topic.replicas }),
          configEntries: Object.entries(topic.config).map(([configName, value]) => ({ name: configName, value })),
        },
      ],
    });
  }

  async raisePartitions(name: string, count: number): Promise<void> {
    await this.admin.createPartitions({ topicPartitions: [{ topic: name, count }] });
  }

  async replaceConfig(name: string, config: Record<string, string>): Promise<void> {
    await this.admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: Object.entries(config).map(([configName, value]) => ({ name: configName, value })) }],
    });
  }

  async delete(name: string): Promise<void> {
    await this.admin.deleteTopics({ topics: [name] });
  }

  private async describeBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const states = await this.describeAll([...new Set(batch.map(({ name }) => name))]);
      for (const { name, resolve } of batch) resolve(states.get(name));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }

  private async describeAll(names: string[]): Promise<Map<string, KafkaTopicState>> {
    // Metadata for all topics, not for the named ones: asking for a topic that does not exist is an error in kafkajs.
    const wanted = new Set(names);
    const existing = (await this.admin.fetchTopicMetadata()).topics.filter((topic) => wanted.has(topic.name));
    const states = new Map<string, KafkaTopicState>();
    if (existing.length === 0) return states;
    const [configs, ids] = await Promise.all([
      this.admin.describeConfigs({
        includeSynonyms: false,
        resources: existing.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: topic.name })),
      }),
      // The id only informs status; a broker without Metadata v12 leaves it unknown rather than failing the reconcile.
      this.topicIds?.idsOf(existing.map((topic) => topic.name)).catch(() => undefined),
    ]);
    for (const topic of existing) {
      const resource = configs.resources.find((candidate) => candidate.resourceName === topic.name);
      if (resource === undefined) continue;
      const config = new Map<string, TopicConfigEntry>();
      for (const entry of resource.configEntries) {
        config.set(entry.configName, { value: entry.configValue, override: entry.configSource === ConfigSource.TOPIC_CONFIG });
      }
      states.set(topic.name, {
        name: topic.name,
        id: ids?.get(topic.name),
        partitions: topic.partitions.length,
        replicas: topic.partitions[0]?.replicas.length ?? 0,
        config,
      });
    }
    return states;
  }
}
