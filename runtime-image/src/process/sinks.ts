// The job's sinks for the runtime process: Kafka sinks into the transaction's outbox, Redis sinks written idempotently before each commit.
import { RUNTIME_ENV } from '@sluice/crds';
import type { JobSink } from '../compiler/job.js';
import type { Sink } from '../connectors/sink.js';
import { KafkaSink, type TransactionOutbox } from '../kafka/sink.js';
import { redisSink } from '../runner/redis.js';
import { Formats } from '../serde/open.js';
import { ConfigError } from './config.js';

export function openSinks(sinks: readonly JobSink[], outbox: TransactionOutbox, redisUrl: string | undefined, formats: Formats = new Formats()): Sink[] {
  return sinks.map((sink) => {
    switch (sink.kind) {
      case 'kafka':
        return new KafkaSink({ topic: sink.topic, key: sink.key, outbox, serializer: formats.serializer(sink.format, `sink ${sink.name}`) });
      case 'redis':
        if (redisUrl === undefined) throw new ConfigError(`sink ${sink.name} writes to Redis but ${RUNTIME_ENV.redisUrl} is not set: set it to the feature store's redis:// URL`);
        return redisSink(sink, redisUrl);
      case 'file':
      case 'stdout':
        throw new ConfigError(`sink ${sink.name} is a ${sink.kind} sink, which streamctl run writes; a runtime pod writes Kafka and Redis sinks`);
    }
  });
}
