// The sinks a job can name, in one table: how each kind opens in a runtime pod and in streamctl run. A new sink is a folder of connectors/ and a row here.
import { RUNTIME_ENV } from '@sluice/crds';
import type { JobSink } from '../compiler/job.js';
import { KafkaSink, type TransactionOutbox } from '../kafka/sink.js';
import { ConfigError, s3Settings } from '../process/config.js';
import { redisSink } from '../runner/redis.js';
import type { Formats } from '../serde/open.js';
import { JsonLinesSink } from './file/sink.js';
import { postgresSink } from './postgres/job.js';
import { LakeSink } from './s3/sink.js';
import { LakeStore } from './s3/store.js';
import type { S3Settings } from '../snapshot/s3-storage.js';
import type { Sink } from './sink.js';

/** Where the sinks outside Kafka connect: a pod's environment (set by the controller from spec.connections), or streamctl run's flags. */
export interface SinkConnections {
  redisUrl?: string | undefined;
  postgresUrl?: string | undefined;
  /** Else the URL's, or PGPASSWORD. */
  postgresPassword?: string | undefined;
  /** The S3 server of S3 sinks (spec.connections.s3); the SDK's defaults where absent. */
  s3?: S3Settings | undefined;
}

export interface PodSinks {
  /** Kafka sinks add their records to the job's transaction through it. */
  outbox: TransactionOutbox;
  connections: SinkConnections;
  formats: Formats;
  /** The job's application id and the pod's ordinal (`payments.fraud/0`): what a replacement pod shares with the pod it replaces. */
  writer?: string | undefined;
}

export interface LocalSinks {
  connections: SinkConnections;
  /** Where streamctl run writes every result: a JSON-lines file, or `-` for stdout. */
  output: string;
  /** One line for a sink the run writes differently from a pod, or not at all. */
  note: (line: string) => void;
}

interface SinkKind<S extends JobSink> {
  /** Opens the sink on a runtime pod; a ConfigError when the pod cannot write it. */
  inPod(sink: S, pod: PodSinks): Sink;
  /** Opens the sink in streamctl run; undefined, after a note saying why, when the run does not write it. */
  inLocalRun(sink: S, run: LocalSinks): Sink | undefined;
}

type SinkKinds = { [K in JobSink['kind']]: SinkKind<Extract<JobSink, { kind: K }>> };

/** A file or stdout sink is a laptop's: a pod has no place to append results for a reader. */
function notInPod(sink: JobSink): never {
  throw new ConfigError(`sink ${sink.name} is a ${sink.kind} sink, which streamctl run writes; a runtime pod writes Kafka, Redis, PostgreSQL and S3 sinks`);
}

export const SINK_KINDS: SinkKinds = {
  kafka: {
    inPod: (sink, { outbox, formats }) =>
      new KafkaSink({ topic: sink.topic, key: sink.key, outbox, serializer: formats.serializer(sink.format, `sink ${sink.name}`) }),
    inLocalRun: (sink, { output, note }) => {
      note(`sink ${sink.name} (Kafka topic ${sink.topic}) is not written by streamctl run; its results go to ${output === '-' ? 'stdout' : output}`);
      return undefined;
    },
  },
  redis: {
    inPod: (sink, { connections }) => {
      if (connections.redisUrl === undefined)
        throw new ConfigError(`sink ${sink.name} writes to Redis but ${RUNTIME_ENV.redisUrl} is not set: set it to the feature store's redis:// URL`);
      return redisSink(sink, connections.redisUrl);
    },
    inLocalRun: (sink, { connections, note }) => {
      if (connections.redisUrl !== undefined) return redisSink(sink, connections.redisUrl);
      note(`sink ${sink.name} (Redis ${sink.key.template}) is skipped; pass --redis redis://127.0.0.1:6379 to write it`);
      return undefined;
    },
  },
  postgres: {
    inPod: (sink, { connections, writer }) => {
      if (connections.postgresUrl === undefined) {
        throw new ConfigError(
          `sink ${sink.name} writes to PostgreSQL but ${RUNTIME_ENV.postgresUrl} is not set: set spec.connections.postgres.url (postgres://user@host:5432/database)`,
        );
      }
      return postgresSink(
        sink,
        { url: connections.postgresUrl, ...(connections.postgresPassword === undefined ? {} : { password: connections.postgresPassword }) },
        writer,
      );
    },
    inLocalRun: (sink, { connections, note }) => {
      if (connections.postgresUrl !== undefined) return postgresSink(sink, { url: connections.postgresUrl });
      note(
        `sink ${sink.name} (PostgreSQL table ${sink.table}) is skipped; pass --postgres postgres://user@127.0.0.1:5432/database to write it (the password from PGPASSWORD)`,
      );
      return undefined;
    },
  },
  s3: {
    inPod: (sink, { connections }) => lakeSink(sink, connections.s3 ?? {}, true),
    // streamctl run has no transaction: each commit's results are the lake's at once; the S3 server from the pod's variables.
    inLocalRun: (sink) => lakeSink(sink, s3Settings(process.env), false),
  },
  file: {
    inPod: notInPod,
    inLocalRun: (sink) => new JsonLinesSink(sink.path),
  },
  stdout: {
    inPod: notInPod,
    inLocalRun: (sink, { output, note }) => {
      if (output !== '-') note(`sink ${sink.name} (stdout): results go to ${output}`);
      return undefined;
    },
  },
};

function lakeSink(sink: Extract<JobSink, { kind: 's3' }>, settings: S3Settings, transactional: boolean): LakeSink {
  const { name, bucket, prefix, format, rollInterval } = sink;
  return new LakeSink({ name, store: new LakeStore(bucket, settings), prefix, format, rollInterval, transactional });
}

/** The row of the sink's kind; the mapped type above pairs each kind with its own sink type, which a lookup by a union kind cannot see. */
function kindOf<S extends JobSink>(sink: S): SinkKind<S> {
  return SINK_KINDS[sink.kind] as unknown as SinkKind<S>;
}

/** The job's sinks on a runtime pod, in spec order. */
export function openPodSinks(sinks: readonly JobSink[], pod: PodSinks): Sink[] {
  return sinks.map((sink) => kindOf(sink).inPod(sink, pod));
}

/** The job's sinks in streamctl run, in spec order, without those the run does not write. */
export function openLocalSinks(sinks: readonly JobSink[], run: LocalSinks): Sink[] {
  return sinks.flatMap((sink) => kindOf(sink).inLocalRun(sink, run) ?? []);
}
