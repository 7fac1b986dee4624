// A format named in the spec → its Deserializer or Serializer: one table, so a new format is one row here and one file.
import { SluiceError } from '@sluice/crds/errors';
import { AvroDeserializer, AvroSerializer, type ReaderSubject } from './avro.js';
import { JsonDeserializer, JsonSerializer } from './json.js';
import { JsonSchemaDeserializer, JsonSchemaSerializer } from './json-schema.js';
import { SchemaRegistries, type SchemaRegistryClient } from './registry-client.js';
import type { Deserializer, FormatName, RecordFormat, Serializer } from './serde.js';

/** The environment variable naming the registry of formats whose spec names none: streamctl's and the runtime's default. */
export const SCHEMA_REGISTRY_URL_ENV = 'SLUICE_SCHEMA_REGISTRY_URL';

/** A format that needs a registry, and the job names none. */
export class NoSchemaRegistryError extends SluiceError {
  readonly code = 'SLUICE_E_NO_SCHEMA_REGISTRY';
}

interface FormatRow {
  deserializer(registry: SchemaRegistryClient, subject: ReaderSubject): Deserializer;
  serializer(registry: SchemaRegistryClient, subject: ReaderSubject): Serializer;
}

const REGISTERED: Record<Exclude<FormatName, 'json'>, FormatRow> = {
  avro: {
    deserializer: (registry, subject) => new AvroDeserializer(registry, subject),
    serializer: (registry, subject) => new AvroSerializer(registry, subject),
  },
  'json-schema': {
    deserializer: (registry) => new JsonSchemaDeserializer(registry),
    serializer: (registry, subject) => new JsonSchemaSerializer(registry, subject),
  },
};

/** Opens the serdes of one job: they share a client per registry URL, so each schema is fetched once. */
export class Formats {
  readonly #registries: SchemaRegistries;
  readonly #defaultUrl: string | undefined;

  /** `defaultUrl`: the registry of formats whose spec names none (SLUICE_SCHEMA_REGISTRY_URL by default). */
  constructor(options: { registries?: SchemaRegistries; defaultUrl?: string | undefined } = {}) {
    this.#registries = options.registries ?? new SchemaRegistries();
    this.#defaultUrl = 'defaultUrl' in options ? options.defaultUrl : process.env[SCHEMA_REGISTRY_URL_ENV];
  }

  deserializer(format: RecordFormat | undefined, where: string): Deserializer {
    if (format === undefined || format.name === 'json') return new JsonDeserializer();
    return REGISTERED[format.name].deserializer(this.#registry(format, where), format);
  }

  serializer(format: RecordFormat | undefined, where: string): Serializer {
    if (format === undefined || format.name === 'json') return new JsonSerializer();
    return REGISTERED[format.name].serializer(this.#registry(format, where), format);
  }

  #registry(format: Exclude<RecordFormat, { name: 'json' }>, where: string): SchemaRegistryClient {
    const url = format.registryUrl ?? this.#defaultUrl;
    if (url === undefined) {
      throw new NoSchemaRegistryError(
        `${where} reads or writes ${format.name} (subject ${format.subject}) but names no schema registry: set spec.connections.schemaRegistry.url, ${where}.schema.registryUrl, or ${SCHEMA_REGISTRY_URL_ENV}`,
      );
    }
    return this.#registries.at(url);
  }
}
