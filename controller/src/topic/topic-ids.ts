// Topic ids from Kafka's Metadata API v12 (@sluice/crds readTopicMetadata): kafkajs speaks Metadata only up to v6, which has no ids.
import { explainKafkaError, readTopicMetadata, BrokerSaslError, type KafkaConnectionOptions } from '@sluice/crds';

/** Reads the ids of topics by name; a topic Kafka does not know is missing from the map. */
export interface TopicIds {
  idsOf(names: string[]): Promise<Map<string, string>>;
}

/** Asks the first reachable bootstrap broker, over TLS and signed in with SASL when the Kafka Secret says so. */
export class KafkaTopicIds implements TopicIds {
  constructor(
    private readonly brokers: string[],
    private readonly connection: KafkaConnectionOptions = {},
    private readonly timeoutMs = 10_000,
  ) {}

  async idsOf(names: string[]): Promise<Map<string, string>> {
    try {
      const topics = await readTopicMetadata(this.brokers, this.connection, names, { timeoutMs: this.timeoutMs });
      return new Map([...topics].map(([name, { id }]) => [name, id]));
    } catch (error) {
      if (error instanceof BrokerSaslError) throw explainKafkaError(error, { brokers: this.brokers, connection: this.connection });
      throw error;
    }
  }
}
