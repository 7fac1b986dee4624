// The Topic reconciler: makes a Kafka topic match its Topic resource (Strimzi's topic operator is the model).
import type { Topic, TopicStatus } from '@sluice/crds';
import type { Logger } from 'pino';
import { messageOf } from '@sluice/crds/errors';
import type { Clock } from '../machinery/clock.js';
import { findCondition } from '../machinery/conditions.js';
import { keyOfObject, type ResourceClient } from '../machinery/custom-resources.js';
import type { EventRecorder, EventType } from '../machinery/events.js';
import { ensureFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../machinery/finalizers.js';
import { done, type ObjectKey, type Reconciler, type Result, type TerminalError } from '../machinery/reconciler.js';
import { StatusReporter, type FailureReasons, type StatedCondition, type StatusFields } from '../machinery/status-reporter.js';
import { describeDiff, diffConfig, isEmpty } from './config-diff.js';
import type { KafkaTopicState, TopicAdmin } from './kafka-topics.js';

export const topicFinalizer = 'sluice.dev/topic';
export const pausedAnnotation = 'sluice.dev/paused';

/** The reasons a Topic's conditions give, for programs that read them. */
export const TopicReason = {
  Ready: 'Ready',
  Creating: 'Creating',
  PartitionDecreaseNotSupported: 'PartitionDecreaseNotSupported',
  ReplicationFactorChangeNotSupported: 'ReplicationFactorChangeNotSupported',
  ResourceConflict: 'ResourceConflict',
  KafkaRejected: 'KafkaRejected',
  KafkaError: 'KafkaError',
  ReconciliationPaused: 'ReconciliationPaused',
} as const;

/** The condition types a Topic's status holds. */
export const TopicCondition = {
  Ready: 'Ready',
  Paused: 'Paused',
} as const;

/** kafkajs error types that retrying the same request cannot fix. */
const rejectedByKafka = new Set([
  'INVALID_CONFIG',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'POLICY_VIOLATION',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUEST',
  'TOPIC_AUTHORIZATION_FAILED',
  'UNKNOWN_SERVER_ERROR_CONFIG',
]);

export interface TopicReconcilerDeps {
  topics: ResourceClient<Topic>;
  /** Every Topic the controller watches (the informer cache), to find two resources that claim one Kafka topic. */
  watchedTopics: () => readonly Topic[];
  admin: TopicAdmin;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
}

/** The Kafka topic's name: spec.topicName for names Kubernetes cannot hold, else metadata.name. */
export function kafkaTopicName(topic: Topic): string {
  return topic.spec.topicName ?? topic.metadata.name ?? '';
}

export function isPaused(topic: Topic): boolean {
  return topic.metadata.annotations?.[pausedAnnotation] === 'true';
}

/**
 * Of several Topics for one Kafka topic the oldest owns it. creationTimestamp has whole seconds, so within one second
 * the Topic whose status already holds the topic keeps it, then namespace/name decides: the choice never flips.
 */
export function owningTopic(claimants: readonly Topic[]): Topic | undefined {
  const created = (topic: Topic): number => new Date(topic.metadata.creationTimestamp ?? 0).getTime();
  const incumbent = (topic: Topic): number => (topic.status?.topicName === kafkaTopicName(topic) ? 0 : 1);
  const key = (topic: Topic): string => `${topic.metadata.namespace ?? ''}/${topic.metadata.name ?? ''}`;
  return [...claimants].sort((a, b) => created(a) - created(b) || incumbent(a) - incumbent(b) || key(a).localeCompare(key(b)))[0];
}

export class TopicReconciler implements Reconciler {
  readonly kind = 'Topic';

  readonly #report: StatusReporter<Topic>;

  constructor(private readonly deps: TopicReconcilerDeps) {
    this.#report = new StatusReporter('Topic', {
      resources: deps.topics,
      events: deps.events,
      clock: deps.clock,
      log: deps.log,
      clearedByOthers: [TopicCondition.Paused],
    });
  }

  async reconcile(key: ObjectKey): Promise<Result> {
    const topic = await this.deps.topics.get(key);
    if (topic === undefined) return done;
    try {
      if (isBeingDeleted(topic)) return await this.finalize(topic);
      if (isPaused(topic)) return await this.pause(topic);
      return await this.converge(topic);
    } catch (error) {
      return this.#report.failed(topic, error, failureReasons);
    }
  }

  /** Claimants of the same Kafka topic, the given one included even if the cache has not seen it yet. */
  private claimants(topic: Topic): Topic[] {
    const name = kafkaTopicName(topic);
    const others = this.deps.watchedTopics().filter((other) => other.metadata.uid !== topic.metadata.uid && kafkaTopicName(other) === name);
    return [topic, ...others];
  }

  private async converge(topic: Topic): Promise<Result> {
    const name = kafkaTopicName(topic);
    const owner = owningTopic(this.claimants(topic));
    if (owner !== undefined && owner.metadata.uid !== topic.metadata.uid) {
      const { namespace, name: ownerName } = keyOfObject(owner);
      throw await this.refuse(
        topic,
        TopicReason.ResourceConflict,
        `Kafka topic ${name} is already managed by the older Topic ${namespace}/${ownerName}; delete one of the two`,
      );
    }
    // The finalizer goes on before Kafka is touched, so a deletion can never miss a topic this controller created.
    const held = await ensureFinalizer(this.deps.topics, topic, topicFinalizer);
    const before = await this.deps.admin.describe(name);
    const partitions = topic.spec.partitions ?? 1;
    const config = topic.spec.config ?? {};
    if (before === undefined) {
      await this.deps.admin.create(name, { partitions, replicas: topic.spec.replicas, config });
      this.event(topic, 'Normal', 'Created', `created Kafka topic ${name} with ${partitions} partitions`);
    } else {
      const refusal = refusalOf(topic, before);
      if (refusal !== undefined) {
        throw await this.refuse(held, refusal.reason, refusal.message, { partitions: before.partitions, replicas: before.replicas });
      }
      if (topic.status?.topicName === undefined) this.event(topic, 'Normal', 'Adopted', `adopted the existing Kafka topic ${name}`);
      if (before.partitions < partitions) {
        await this.deps.admin.raisePartitions(name, partitions);
        this.event(topic, 'Normal', 'PartitionsIncreased', `raised ${name} from ${before.partitions} to ${partitions} partitions`);
      }
      const diff = diffConfig(config, before.config);
      if (!isEmpty(diff)) {
        await this.deps.admin.replaceConfig(name, config);
        this.event(topic, 'Normal', 'ConfigUpdated', `${name}: ${describeDiff(diff)}`);
      }
    }
    const after = await this.deps.admin.describe(name);
    if (after === undefined) {
      await this.writeStatus(
        held,
        {},
        { type: TopicCondition.Ready, status: 'False', reason: TopicReason.Creating, message: `waiting for Kafka to show topic ${name}` },
      );
      return { requeueAfterMs: 100 };
    }
    const wasReady = findCondition(topic.status?.conditions, TopicCondition.Ready)?.status === 'True';
    await this.writeStatus(
      held,
      { topicName: name, topicId: after.id, partitions: after.partitions, replicas: after.replicas },
      { type: TopicCondition.Ready, status: 'True', reason: TopicReason.Ready, message: `Kafka topic ${name} matches the spec` },
    );
    if (!wasReady) this.event(topic, 'Normal', 'Ready', `Kafka topic ${name} matches the spec`);
    return done;
  }

  private async pause(topic: Topic): Promise<Result> {
    const changed = await this.writeStatus(
      topic,
      {},
      {
        type: TopicCondition.Paused,
        status: 'True',
        reason: TopicReason.ReconciliationPaused,
        message: `the ${pausedAnnotation} annotation is "true": Kafka is not changed until it is removed`,
      },
    );
    if (changed) this.event(topic, 'Normal', TopicReason.ReconciliationPaused, `reconciliation paused by the ${pausedAnnotation} annotation`);
    return done;
  }

  private async finalize(topic: Topic): Promise<Result> {
    if (!hasFinalizer(topic, topicFinalizer)) return done;
    const name = kafkaTopicName(topic);
    const owner = owningTopic(this.claimants(topic));
    const owns = owner?.metadata.uid === topic.metadata.uid;
    if (topic.spec.deletionPolicy === 'delete' && owns && !isPaused(topic)) {
      if ((await this.deps.admin.describe(name)) !== undefined) await this.deps.admin.delete(name);
      this.event(topic, 'Normal', 'Deleted', `deleted Kafka topic ${name} (deletionPolicy delete)`);
    } else {
      const why = !owns ? 'another Topic manages it' : isPaused(topic) ? 'reconciliation is paused' : 'deletionPolicy retain';
      this.event(topic, 'Normal', 'Retained', `kept Kafka topic ${name} (${why})`);
    }
    await removeFinalizer(this.deps.topics, topic, topicFinalizer);
    return done;
  }

  private refuse(topic: Topic, reason: string, message: string, fields: StatusFields<TopicStatus> = {}): Promise<TerminalError> {
    return this.#report.refuse(topic, reason, message, fields);
  }

  private writeStatus(topic: Topic, fields: StatusFields<TopicStatus>, condition: StatedCondition): Promise<boolean> {
    // A paused Topic has not acted on its latest generation, so it does not claim to have observed it.
    return this.#report.write(topic, fields, [condition], { observed: condition.type !== TopicCondition.Paused });
  }

  private event(topic: Topic, type: EventType, reason: string, message: string): void {
    this.#report.event(topic, type, reason, message);
  }
}

/** What Kafka cannot do, refused before anything is touched: remove partitions, or change the replication factor in place. */
function refusalOf(topic: Topic, state: KafkaTopicState): { reason: string; message: string } | undefined {
  const partitions = topic.spec.partitions ?? 1;
  if (state.partitions > partitions) {
    return {
      reason: TopicReason.PartitionDecreaseNotSupported,
      message: `Kafka topic ${state.name} has ${state.partitions} partitions and the spec asks for ${partitions}; Kafka cannot remove partitions: set spec.partitions to at least ${state.partitions}`,
    };
  }
  if (topic.spec.replicas !== undefined && topic.spec.replicas !== state.replicas) {
    return {
      reason: TopicReason.ReplicationFactorChangeNotSupported,
      message: `Kafka topic ${state.name} has replication factor ${state.replicas} and the spec asks for ${topic.spec.replicas}; Sluice does not reassign replicas: set spec.replicas to ${state.replicas}`,
    };
  }
  return undefined;
}

/** A refusal is an error Kafka gives to a request it will never take; anything else is retried. */
const failureReasons: FailureReasons = {
  refusal(error) {
    const reason = kafkaErrorType(error);
    if (reason === undefined || !rejectedByKafka.has(reason)) return undefined;
    return { reason: TopicReason.KafkaRejected, message: `Kafka refused the change (${reason}): ${messageOf(error)}; fix the spec` };
  },
  retried: TopicReason.KafkaError,
};

function kafkaErrorType(error: unknown): string | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}
