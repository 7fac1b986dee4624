// The job's sinks for the runtime process: Kafka sinks into the transaction's outbox, Redis and PostgreSQL sinks written idempotently before each commit.
import type { JobSink } from '../compiler/job.js';
import { openPodSinks, type SinkConnections } from '../connectors/sink-kinds.js';
import type { Sink } from '../connectors/sink.js';
import type { TransactionOutbox } from '../kafka/sink.js';
import { Formats } from '../serde/open.js';

export type { SinkConnections };

/**
 * Each sink as its row of SINK_KINDS opens it on a pod; a ConfigError names what the pod lacks (a connection, a kind
 * it does not write). `pod.writer`: the job's application id and the pod's ordinal, which a replacement pod shares.
 */
export function openSinks(
  sinks: readonly JobSink[],
  outbox: TransactionOutbox,
  pod: SinkConnections & { writer?: string },
  formats: Formats = new Formats(),
): Sink[] {
  return openPodSinks(sinks, { outbox, connections: pod, formats, writer: pod.writer });
}
