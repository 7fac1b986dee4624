// The connectors other than Kafka: the source and sink contracts, the generator, JSON-lines files, Redis, pacing, key templates.
export * from './source.js';
export * from './sink.js';
export * from './paced.js';
export * from './partitioner.js';
export * from './key-template.js';
export * from './generator/options.js';
export * from './generator/source.js';
export { plantFraudsters, type PlantedFraudster } from './generator/transactions.js';
export * from './file/source.js';
export * from './file/sink.js';
export * from './redis/sink.js';
