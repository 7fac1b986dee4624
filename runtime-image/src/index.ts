/**
 * @sluice/runtime — the Sluice stream processing engine: event time, windows, aggregates, keyed
 * state and the DataStream API the job YAML compiles onto. One line per module.
 */
export { messageOf } from './error-message.js';
export * from './time/duration.js';
export * from './time/watermark.js';
export * from './window/assigners.js';
export * from './window/operator.js';
export * from './aggregate/accumulator.js';
export * from './aggregate/aggregates.js';
export * from './state/keyed.js';
export * from './dataflow/operator.js';
export * from './dataflow/keys.js';
export * from './dataflow/datastream.js';
export * from './dataflow/task.js';
export * from './state/store.js';
export * from './state/rocksdb-store.js';
export * from './state/cache-budget.js';
export * from './state/cached-keyed-state.js';
export * from './state/task-state.js';
export * from './snapshot/errors.js';
export * from './snapshot/location.js';
export * from './snapshot/storage.js';
export * from './snapshot/local-storage.js';
export * from './snapshot/s3-storage.js';
export * from './snapshot/open-storage.js';
export * from './snapshot/manifest.js';
export * from './snapshot/writer.js';
export * from './snapshot/reader.js';
export * from './snapshot/retention.js';
export * from './snapshot/by-location.js';
export * from './compiler/index.js';
export * from './kafka/client.js';
export * from './kafka/static-assignment.js';
export * from './kafka/kafkajs-client.js';
export * from './kafka/records.js';
export * from './kafka/source.js';
export * from './kafka/sink.js';
export * from './kafka/changelog.js';
export * from './kafka/exactly-once.js';
export * from './runner/index.js';
export * from './repartition/index.js';
export * from './connectors/index.js';
export * from './score/model-server.js';
