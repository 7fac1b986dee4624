// State changelogs: one compacted topic per stateful operator, partition = source partition; written in the commit's transaction, replayed on restore.
import type { StateChange } from '../state/cached-keyed-state.js';
import type { StateStore } from '../state/store.js';
import { applyStateChanges } from '../state/task-state.js';
import type { FetchedBatch, KafkaClient, OutgoingMessage, TopicRequest } from './client.js';

/** Operator kinds that keep keyed state, and so a changelog. */
const STATEFUL_KINDS: ReadonlySet<string> = new Set(['window', 'join', 'pattern']);

/** The ids of a dataflow's stateful operators: one changelog topic each. */
export function statefulOperatorIds(dataflow: { readonly nodes: readonly { readonly id: string; readonly kind: string }[] }): string[] {
  return dataflow.nodes.filter((node) => STATEFUL_KINDS.has(node.kind)).map((node) => node.id);
}

export function changelogTopic(job: string, operatorId: string): string {
  return `${job}-${operatorId}-changelog`;
}

/** The changelog topics of a job's stateful operators, as many partitions as the source: partition p holds task p's state. */
export function changelogTopics(job: string, operatorIds: readonly string[], partitions: number): TopicRequest[] {
  return operatorIds.map((operatorId) => ({
    topic: changelogTopic(job, operatorId),
    partitions,
    // Compaction keeps the latest value per state key; the restore replays only that. A deleted key (an expiry, a GDPR
    // erasure) is a tombstone: max.compaction.lag.ms bounds how long its older values may wait for compaction (7 days),
    // delete.retention.ms how long the tombstone itself stays after it, for a restore in progress to see (1 day).
    config: {
      'cleanup.policy': 'compact',
      'min.compaction.lag.ms': '0',
      'max.compaction.lag.ms': '604800000',
      'delete.retention.ms': '86400000',
      'segment.ms': '600000',
    },
  }));
}

/** One message per change: the state key, the stored bytes or a tombstone. */
export function changelogMessages(job: string, partition: number, changes: readonly StateChange[]): OutgoingMessage[] {
  return changes.map(({ operatorId, key, value }) => ({ topic: changelogTopic(job, operatorId), partition, key, value }));
}

export interface ChangelogRestore {
  client: KafkaClient;
  store: StateStore;
  job: string;
  operatorIds: readonly string[];
  partitions: readonly number[];
  /** Where each operator's changelog partition is replayed from (a snapshot's position); the beginning by default. */
  from?: (operatorId: string, partition: number) => number;
}

/**
 * Replays the committed changelog records of the given partitions into the store, up to the end
 * offsets read when it starts. Call it after opening the transactional producer, whose fencing
 * aborts a crashed predecessor's open transaction: the end offsets then include no open transaction.
 * Returns how many records were applied.
 */
export async function restoreChangelogs(restore: ChangelogRestore): Promise<number> {
  const { client, store, job, operatorIds, partitions } = restore;
  const operatorOf = new Map(operatorIds.map((id) => [changelogTopic(job, id), id]));
  const start = (topic: string, partition: number): number => restore.from?.(operatorOf.get(topic)!, partition) ?? 0;
  const remaining = new Map<string, number>();
  for (const topic of operatorOf.keys()) {
    const ends = await client.endOffsets(topic);
    for (const partition of partitions) {
      const end = ends.get(partition) ?? 0;
      if (end > start(topic, partition)) remaining.set(`${topic}/${partition}`, end);
    }
  }
  if (remaining.size === 0) return 0;
  let applied = 0;
  let caughtUp!: () => void;
  let failed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failed = reject;
  });
  // Handled below; this keeps a failure before the fetch has started from counting as unhandled.
  done.catch(() => undefined);
  const advance = (topic: string, partition: number, next: number): void => {
    const where = `${topic}/${partition}`;
    const end = remaining.get(where);
    if (end !== undefined && next >= end) {
      remaining.delete(where);
      if (remaining.size === 0) caughtUp();
    }
  };
  const onBatch = (batch: FetchedBatch): Promise<void> => {
    const operatorId = operatorOf.get(batch.topic)!;
    const changes = batch.messages.filter((m) => m.key !== null).map((m) => ({ operatorId, key: m.key!.toString('utf8'), value: m.value }));
    applyStateChanges(store, batch.partition, changes);
    applied += batch.messages.length;
    advance(batch.topic, batch.partition, batch.next);
    return Promise.resolve();
  };
  const fetch = await client.fetch({ topics: [...operatorOf.keys()], partitions, start, readCommitted: true, onBatch, onPosition: advance, onError: failed });
  try {
    await done;
  } finally {
    await fetch.stop();
  }
  return applied;
}
