// The one interface between Kafka bytes and engine records: a Deserializer for sources, a Serializer for sinks, and the format a job names.

/** A format as the job spec names it (sources[].format, sinks[].kafka.format); json needs no registry. */
export type RecordFormat =
  | { name: 'json' }
  | {
      name: 'avro' | 'json-schema';
      /** The registry subject: the reader's schema for a source, the writer's for a sink. */
      subject: string;
      /** A fixed version of the subject; absent: the latest at start. */
      version?: number;
      /** The registry's URL: the spec's schema.registryUrl or connections.schemaRegistry.url; absent: SLUICE_SCHEMA_REGISTRY_URL. */
      registryUrl?: string;
    };

export type FormatName = RecordFormat['name'];

export type DecodeResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };
export type EncodeResult = { ok: true; value: Buffer | string } | { ok: false; reason: string };

/** Message values → records. A failure is the record's dead-letter reason, never an exception. */
export interface Deserializer {
  readonly format: FormatName;
  /**
   * Fetches what decoding these values needs (the schemas their ids name, the reader's schema); undefined when
   * everything is at hand, so the common case awaits nothing. Rejects only when the registry cannot be asked:
   * an outage stops the job (it restarts from its last commit) rather than dead-letter good records.
   */
  prepare(values: readonly (Buffer | null)[]): Promise<void> | undefined;
  /** One message's value (not null: tombstones are refused before). */
  decode(value: Buffer): DecodeResult;
}

/** Records → message values. A record the schema refuses is the result's dead-letter reason. */
export interface Serializer {
  readonly format: FormatName;
  /** Looks up the writer's subject once, before the first `encode`; rejects when the registry or the subject is missing. */
  start(): Promise<void>;
  encode(record: Record<string, unknown>): EncodeResult;
}

/** A value, as a reason quotes it: at most 64 characters of its JSON. */
export function quoted(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
