/**
 * @sluice/controller: the Sluice operator. The reconcile machinery in controller-runtime's habits (informers, a
 * de-duplicating rate-limited work queue, the requeue contract, finalizers, status conditions, Events, leader election,
 * metrics) and the reconcilers of Topic and SchemaSubject. `startManager` runs it in-process; `sluice-controller` is its CLI.
 */
export { startManager, leaderIdentity, defaultRuntimeImage, type ManagerOptions, type RunningManager, type StreamJobOptions } from './manager.js';
export { StreamJobReconciler, StreamJobReason } from './stream-job/reconciler.js';
export { HttpRuntimeControl, RuntimeControlError, type RuntimeControl } from './stream-job/runtime-control.js';
export { specHash, runtimeSpec } from './stream-job/spec.js';
export { TerminalError, done, keyOf, parseKey, type ObjectKey, type Reconciler, type Result } from './machinery/reconciler.js';
export { setCondition, findCondition, hasCondition, removeCondition, type NewCondition } from './machinery/conditions.js';
export { WorkQueue } from './machinery/work-queue.js';
export { KeyBackoff, type BackoffOptions } from './machinery/backoff.js';
export { systemClock, type Clock } from './machinery/clock.js';
export { leaderElectionDefaults, type LeaderElectionOptions } from './machinery/leader-election.js';
export { TopicReconciler, TopicReason, kafkaTopicName, pausedAnnotation, topicFinalizer } from './topic/reconciler.js';
export { KafkaTopicAdmin, type TopicAdmin, type KafkaTopicState } from './topic/kafka-topics.js';
export { SchemaSubjectReconciler, SchemaSubjectReason, schemaSubjectFinalizer } from './schema-subject/reconciler.js';
export { RegistryClient, RegistryError, RegistryErrorCode, type SchemaRegistryApi } from './registry-client.js';
