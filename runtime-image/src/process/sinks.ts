// The job's sinks for the runtime process: Kafka sinks into the transaction's outbox, Redis and PostgreSQL sinks written idempotently before each commit.
import { RUNTIME_ENV } from '@sluice/crds';
import type { JobSink } from '../compiler/job.js';
import type { Sink } from '../connectors/sink.js';
import { KafkaSink, type TransactionOutbox } from '../kafka/sink.js';
import { redisSink } from '../runner/redis.js';
import { Formats } from '../serde/open.js';
import { postgresSink } from '../connectors/postgres/job.js';
import { ConfigError, type RuntimeConfig } from './config.js';

/** Where the pod's Redis and PostgreSQL sinks connect: its environment, as the controller set it from spec.connections. */
export type SinkConnections = Partial<Pick<RuntimeConfig, 'redisUrl' | 'postgresUrl' | 'postgresPassword'>>;

export function openSinks(sinks: readonly JobSink[], outbox: TransactionOutbox, connections: SinkConnections, formats: Formats = new Formats()): Sink[] {
  return sinks.map((sink) => {
    switch (sink.kind) {
      case 'kafka':
        return new KafkaSink({ topic: sink.topic, key: sink.key, outbox, serializer: formats.serializer(sink.format, `sink ${sink.name}`) });
      case 'redis':
        if (connections.redisUrl === undefined) throw new ConfigError(`sink ${sink.name} writes to Redis but ${RUNTIME_ENV.redisUrl} is not set: set it to the feature store's redis:// URL`);
        return redisSink(sink, connections.redisUrl);
      case 'postgres':
        if (connections.postgresUrl === undefined) throw new ConfigError(`sink ${sink.name} writes to PostgreSQL but ${RUNTIME_ENV.postgresUrl} is not set: set spec.connections.postgres.url (postgres://user@host:5432/database)`);
        return postgresSink(sink, { url: connections.postgresUrl, ...(connections.postgresPassword === undefined ? {} : { password: connections.postgresPassword }) });
      case 'file':
      case 'stdout':
        throw new ConfigError(`sink ${sink.name} is a ${sink.kind} sink, which streamctl run writes; a runtime pod writes Kafka, Redis and PostgreSQL sinks`);
    }
  });
}
