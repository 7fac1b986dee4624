// The job's Redis sink, for a local run and a runtime pod alike: the connector's sink, with the spec's CEL value computed first.
import { RedisSink } from '../connectors/redis/sink.js';
import type { DeadLetter, Sink, SinkRecord } from '../connectors/sink.js';
import { messageOf } from '../error-message.js';
import type { JobSink } from '../compiler/job.js';

/** The result field the computed value travels in to the connector, which stores one field of the result. */
const VALUE_FIELD = '__sluice_redis_value';

type RedisJobSink = Extract<JobSink, { kind: 'redis' }>;

export function redisSink(spec: RedisJobSink, url: string): Sink {
  const options = { url, key: spec.key, dataType: spec.dataType, ...(spec.ttl === undefined ? {} : { ttlMs: spec.ttl }) };
  const value = spec.value;
  if (value === undefined) return new RedisSink(options);
  const sink = new RedisSink({ ...options, valueField: VALUE_FIELD });
  return {
    write(record: SinkRecord): DeadLetter | undefined {
      let computed: unknown;
      try {
        computed = value.evaluate(record.value);
      } catch (error) {
        return { reason: `redis sink ${spec.name}: value ${messageOf(error)}`, record };
      }
      return sink.write({ ...record, value: { ...record.value, [VALUE_FIELD]: computed } });
    },
    erase: (field, subject) => sink.erase(field, subject),
    commit: () => sink.commit(),
    close: () => sink.close(),
  };
}
