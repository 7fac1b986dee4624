// Avro in the Confluent wire format (avsc): records read with the reader's schema (the subject's version), whatever compatible schema wrote them.
import avro from 'avsc';
import { messageOf } from '../error-message.js';
import { LOGICAL_TYPES } from './avro-logical-types.js';
import { SchemaRegistryError, type SchemaRegistryClient, type SubjectVersion } from './registry-client.js';
import { quoted, type DecodeResult, type Deserializer, type EncodeResult, type Serializer } from './serde.js';
import { SchemaIds } from './schema-ids.js';
import { HEADER_BYTES, header, unframe } from './wire.js';

/** An Avro schema's text as a type that maps the logical types as the engine reads them. */
export function avroType(schema: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { logicalTypes: LOGICAL_TYPES });
}

/** How records of one writer schema id are read: with the reader's type and, when the writer's differs, a resolver. */
type WriterRead = { ok: true; resolver: avro.Resolver | undefined } | { ok: false; reason: string; unknown?: true };

interface Reader {
  type: avro.Type;
  version: SubjectVersion;
}

/** Where the reader's schema comes from: a subject, at a fixed version or the latest when first needed. */
export interface ReaderSubject {
  subject: string;
  version?: number;
}

export class AvroDeserializer implements Deserializer {
  readonly format = 'avro';
  #reader: Reader | undefined;
  readonly #writers: SchemaIds<WriterRead>;

  /** `clock`: when an unknown schema id is asked again (tests pass their own). */
  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly readerSubject: ReaderSubject,
    clock?: () => number,
  ) {
    this.#writers = new SchemaIds(clock);
  }

  prepare(values: readonly (Buffer | null)[]): Promise<void> | undefined {
    const missing = this.#writers.missing(values);
    if (missing === undefined && this.#reader !== undefined) return undefined;
    return this.#load(missing ?? new Set());
  }

  decode(value: Buffer): DecodeResult {
    const framed = unframe(value);
    if (!framed.ok) return framed;
    const writer = this.#writers.get(framed.schemaId);
    if (writer === undefined) return { ok: false, reason: `schema id ${framed.schemaId} was not fetched before decoding` };
    if (!writer.ok) return { ok: false, reason: writer.reason };
    try {
      return { ok: true, value: plain(this.#reader!.type.fromBuffer(framed.body, writer.resolver)) as Record<string, unknown> };
    } catch (error) {
      return {
        ok: false,
        reason: `the Avro body (schema id ${framed.schemaId}, ${framed.body.length} bytes) cannot be read: ${bodyProblem(messageOf(error))}`,
      };
    }
  }

  async #load(ids: Set<number>): Promise<void> {
    const { subject, version } = this.readerSubject;
    if (this.#reader === undefined) {
      const found = await this.registry.version(subject, version);
      if (found.schemaType !== 'AVRO')
        throw new SchemaRegistryError(
          `subject ${subject} version ${found.version} is a ${found.schemaType} schema, not Avro: set the source's format to ${found.schemaType === 'JSON' ? 'json-schema' : "the subject's"}, or name an Avro subject`,
        );
      this.#reader = { type: avroType(found.schema), version: found };
    }
    const reader = this.#reader;
    await Promise.all(
      [...ids].map(async (id) => {
        const read = await writerRead(this.registry, reader, id);
        this.#writers.set(id, read, !read.ok && read.unknown === true);
      }),
    );
  }
}

async function writerRead(registry: SchemaRegistryClient, reader: Reader, id: number): Promise<WriterRead> {
  const { subject, version } = reader.version;
  if (id === reader.version.id) return { ok: true, resolver: undefined };
  const written = await registry.byId(id);
  if (written === undefined) {
    return {
      ok: false,
      unknown: true,
      reason: `schema id ${id} is not in the schema registry at ${registry.url}: the producer registered its schema in another registry, or the id was deleted`,
    };
  }
  if (written.schemaType !== 'AVRO')
    return { ok: false, reason: `schema id ${id} is a ${written.schemaType} schema, not Avro: the producer wrote with another format than the source's avro` };
  try {
    return { ok: true, resolver: reader.type.createResolver(avroType(written.schema)) };
  } catch (error) {
    return {
      ok: false,
      reason: `records written with schema id ${id} cannot be read as subject ${subject} version ${version} (the schemas are not compatible: ${messageOf(error)})`,
    };
  }
}

/**
 * avsc's value as plain data: records become plain objects (CEL refuses class instances such as avsc's records), bytes
 * a base64 string as JSON would carry them. Logical types were mapped already (decimal → string, date → string).
 */
function plain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(plain);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = plain((value as Record<string, unknown>)[key]);
  return copy;
}

function bodyProblem(message: string): string {
  if (message === 'truncated buffer') return 'it ends before the record does (truncated)';
  if (message === 'trailing data') return 'bytes are left after the record (the writer schema id does not match the body)';
  return message;
}

export class AvroSerializer implements Serializer {
  readonly format = 'avro';
  #writer: { type: avro.Type; header: Buffer; version: SubjectVersion } | undefined;
  /** Header and body are written here, then copied out once: one allocation per record, not three. Grows to the largest record. */
  #scratch = Buffer.alloc(4096);

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly writerSubject: ReaderSubject,
  ) {}

  async start(): Promise<void> {
    const found = await this.registry.version(this.writerSubject.subject, this.writerSubject.version);
    if (found.schemaType !== 'AVRO')
      throw new SchemaRegistryError(
        `subject ${found.subject} version ${found.version} is a ${found.schemaType} schema, not Avro: set the sink's format to match, or name an Avro subject`,
      );
    this.#writer = { type: avroType(found.schema), header: header(found.id), version: found };
    this.#writer.header.copy(this.#scratch);
  }

  #framed(type: avro.Type, record: Record<string, unknown>): Buffer {
    let end = type.encode(record, this.#scratch, HEADER_BYTES);
    if (end < 0) {
      // avsc says how many bytes were missing: grow to fit, keeping the header in front, and write again.
      const grown = Buffer.alloc(Math.max(this.#scratch.length * 2, this.#scratch.length - end));
      this.#scratch.copy(grown, 0, 0, HEADER_BYTES);
      this.#scratch = grown;
      end = type.encode(record, this.#scratch, HEADER_BYTES);
    }
    return Buffer.from(this.#scratch.subarray(0, end));
  }

  encode(record: Record<string, unknown>): EncodeResult {
    const writer = this.#writer;
    if (writer === undefined) throw new Error(`the Avro serializer of subject ${this.writerSubject.subject} was not started`);
    try {
      return { ok: true, value: this.#framed(writer.type, record) };
    } catch {
      return {
        ok: false,
        reason: `the result does not fit subject ${writer.version.subject} version ${writer.version.version}: ${whyInvalid(writer.type, record)}`,
      };
    }
  }
}

/** The first field the type refuses, by path, and its value. */
function whyInvalid(type: avro.Type, record: Record<string, unknown>): string {
  let reason: string | undefined;
  type.isValid(record, {
    errorHook: (path: string[], value: unknown, at: avro.Type) => {
      if (reason !== undefined) return;
      const field = path.join('.');
      const expected = at.typeName.replace(/^logical:/, '');
      reason =
        value === undefined
          ? `field ${field} is missing (it is a ${expected} without a default)`
          : `field ${field} is ${quoted(value)}, which is not a ${expected}`;
    },
  });
  return reason ?? 'the schema refuses it';
}
