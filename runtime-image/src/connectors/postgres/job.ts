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

export function postgresSink(spec: PostgresJobSink, connection: PostgresConnection): Sink {
  const columns = spec.columns?.map(({ name, value }) => ({ name, value: (result: Record<string, unknown>) => value.evaluate(result) }));
  return new PostgresSink({
    url: connection.url,
    ...(connection.password === undefined ? {} : { password: connection.password }),
    table: spec.table,
    keyColumns: spec.keyColumns,
    ...(columns === undefined ? {} : { columns }),
  });
}
