/** @sluice/registry: a Confluent Schema Registry-compatible REST service (fastify) with a file or Kafka store. */
export { createRegistry, contentType, type RegistryOptions } from './http/app.js';
export { parseUsers, RegistryUsersError, type RegistryUser } from './http/auth.js';
export { SchemaRegistry, type CompatibilityResult, type SchemaRequest } from './registry.js';
export { RegistryHttpError } from './errors.js';
export { FileStore } from './store/file.js';
export { KafkaStore, type KafkaStoreOptions } from './store/kafka.js';
export { storeFromSpec } from './store/open.js';
export type { Store, ApplyRecord } from './store/store.js';
export type { CompatibilityLevel, Mode, SchemaReference, SchemaType, SchemaVersion, LogRecord } from './model.js';
export { compatibilityReasons } from './compat/check.js';
export { parseSchema, type ParsedSchema } from './schema/parse.js';
