// The job's PostgreSQL sink, for a local run and a runtime pod alike: the connector, with each column's CEL expression computed from the result.
import type { JobSink } from '../../compiler/job.js';
import type { Sink } from '../sink.js';
import { PostgresSink } from './sink.js';

type PostgresJobSink = Extract<JobSink, { kind: 'postgres' }>;

/** Where the sink connects: connections.postgres's url, and the password from its Secret (else PGPASSWORD, as libpq reads it). */
export interface PostgresConnection {
  url: string;
  password?: string;
}

/** `writer`: the pod's application id and ordinal; the sink fences older pods of the same writer (streamctl run gives none). */
export function postgresSink(spec: PostgresJobSink, connection: PostgresConnection, writer?: string): Sink {
  const columns = spec.columns?.map(({ name, value }) => ({ name, value: (result: Record<string, unknown>) => value.evaluate(result) }));
  return new PostgresSink({
    url: connection.url,
    ...(connection.password === undefined ? {} : { password: connection.password }),
    table: spec.table,
    keyColumns: spec.keyColumns,
    ...(columns === undefined ? {} : { columns }),
    ...(writer === undefined ? {} : { writer: `${writer}/${spec.name}` }),
  });
}
