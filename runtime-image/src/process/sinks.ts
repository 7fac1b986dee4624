// The job's sinks for the runtime process: Kafka sinks into the transaction's outbox, Redis sinks written idempotently before each commit.
import type { JobSink } from '../compiler/job.js';
import { RedisSink } from '../connectors/redis/sink.js';
import type { Sink } from '../connectors/sink.js';
import { KafkaSink, type TransactionOutbox } from '../kafka/sink.js';
import { ConfigError } from './config.js';

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

function redisSink(sink: Extract<JobSink, { kind: 'redis' }>, url: string | undefined): Sink {
  if (url === undefined) throw new ConfigError(`sink ${sink.name} writes to Redis but SLUICE_REDIS_URL is not set: set it to the feature store's redis:// URL`);
  const value = sink.value?.source.trim();
  if (value !== undefined && !FIELD.test(value)) {
    throw new ConfigError(`sink ${sink.name}: the runtime stores one field of the result as the Redis value; ${JSON.stringify(value)} is an expression — compute it in a map step and name the field`);
  }
  return new RedisSink({ url, key: sink.key, ...(value === undefined ? {} : { valueField: value }), ...(sink.ttl === undefined ? {} : { ttlMs: sink.ttl }) });
}

export function openSinks(sinks: readonly JobSink[], outbox: TransactionOutbox, redisUrl: string | undefined): Sink[] {
  return sinks.map((sink) => {
    switch (sink.kind) {
      case 'kafka':
        return new KafkaSink({ topic: sink.topic, key: sink.key, outbox });
      case 'redis':
        return redisSink(sink, redisUrl);
      case 'file':
      case 'stdout':
        throw new ConfigError(`sink ${sink.name} is a ${sink.kind} sink, which streamctl run writes; a runtime pod writes Kafka and Redis sinks`);
    }
  });
}
