// Choosing a store from its command-line form: `file:DIR` or `kafka:BOOTSTRAP[,BOOTSTRAP...]`.
import type { KafkaConnectionOptions } from '@sluice/crds/kafka-connection';
import { FileStore } from './file.js';
import { KafkaStore } from './kafka.js';
import type { Store } from './store.js';

export function storeFromSpec(spec: string, options: { kafkaTopic?: string; kafkaConnection?: KafkaConnectionOptions } = {}): Store {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? '' : spec.slice(0, colon);
  const target = spec.slice(colon + 1);
  if (kind === 'file' && target) return new FileStore(target);
  if (kind === 'kafka' && target) return new KafkaStore({ brokers: target.split(','), topic: options.kafkaTopic, connection: options.kafkaConnection });
  throw new Error(`--store '${spec}' is not a store: use file:DIR (a local folder) or kafka:HOST:PORT[,HOST:PORT] (a Kafka cluster)`);
}
