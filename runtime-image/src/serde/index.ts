/** Serdes: Kafka message values ↔ engine records in plain JSON, or Avro and JSON Schema in the Confluent wire format with a schema registry. */
export type { RecordFormat, FormatName, Deserializer, Serializer, DecodeResult, EncodeResult } from './serde.js';
export { Formats, NoSchemaRegistryError, SCHEMA_REGISTRY_URL_ENV } from './open.js';
export {
  HttpSchemaRegistryClient,
  SchemaRegistries,
  SchemaRegistryError,
  type SchemaRegistryClient,
  type RegisteredSchema,
  type SubjectVersion,
} from './registry-client.js';
export { JsonDeserializer, JsonSerializer } from './json.js';
export { AvroDeserializer, AvroSerializer, avroType } from './avro.js';
export { JsonSchemaDeserializer, JsonSchemaSerializer } from './json-schema.js';
export { header as wireHeader, unframe } from './wire.js';
