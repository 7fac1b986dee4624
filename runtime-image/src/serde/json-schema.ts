// JSON Schema in the Confluent wire format: JSON bodies behind the magic byte and schema id; results are validated (ajv) before they are written.
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseJsonObject } from './json.js';
import type { ReaderSubject } from './avro.js';
import { SchemaRegistryError, type SchemaRegistryClient, type SubjectVersion } from './registry-client.js';
import { quoted, type DecodeResult, type Deserializer, type EncodeResult, type Serializer } from './serde.js';
import { SchemaIds } from './schema-ids.js';
import { header, unframe } from './wire.js';

/** A JSON Schema's validator, by the draft its `$schema` names (draft-07 when it names none), as the registry checks them. */
function compileJsonSchema(text: string): ValidateFunction {
  const document = JSON.parse(text) as Record<string, unknown>;
  const declared = typeof document.$schema === 'string' ? document.$schema : '';
  // strict: false because schemas carry annotations and vendor keywords; formats (date-time, email) are annotations here, not checks.
  const options = { strict: false, validateFormats: false, allErrors: false };
  const ajv = declared.includes('2020-12') ? new Ajv2020(options) : declared.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  return ajv.compile(document);
}

/** Reads the JSON body of each record; the schema id must be one the registry holds as a JSON schema. */
export class JsonSchemaDeserializer implements Deserializer {
  readonly format = 'json-schema';
  /** Per schema id, why its records are refused, or nothing when it is a JSON schema the registry holds. */
  readonly #known: SchemaIds<{ refused?: string }>;

  /** `clock`: when an unknown schema id is asked again (tests pass their own). */
  constructor(
    private readonly registry: SchemaRegistryClient,
    clock?: () => number,
  ) {
    this.#known = new SchemaIds(clock);
  }

  prepare(values: readonly (Buffer | null)[]): Promise<void> | undefined {
    const missing = this.#known.missing(values);
    if (missing === undefined) return undefined;
    return Promise.all(
      [...missing].map(async (id) => {
        const found = await this.registry.byId(id);
        if (found === undefined) {
          this.#known.set(
            id,
            {
              refused: `schema id ${id} is not in the schema registry at ${this.registry.url}: the producer registered its schema in another registry, or the id was deleted`,
            },
            true,
          );
        } else if (found.schemaType !== 'JSON') {
          this.#known.set(id, {
            refused: `schema id ${id} is a ${found.schemaType} schema, not a JSON schema: the producer wrote with another format than the source's json-schema`,
          });
        } else this.#known.set(id, {});
      }),
    ).then(() => undefined);
  }

  decode(value: Buffer): DecodeResult {
    const framed = unframe(value);
    if (!framed.ok) return framed;
    const known = this.#known.get(framed.schemaId);
    if (known === undefined) return { ok: false, reason: `schema id ${framed.schemaId} was not fetched before decoding` };
    if (known.refused !== undefined) return { ok: false, reason: known.refused };
    return parseJsonObject(framed.body);
  }
}

export class JsonSchemaSerializer implements Serializer {
  readonly format = 'json-schema';
  #writer: { validate: ValidateFunction; header: Buffer; version: SubjectVersion } | undefined;

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly writerSubject: ReaderSubject,
  ) {}

  async start(): Promise<void> {
    const found = await this.registry.version(this.writerSubject.subject, this.writerSubject.version);
    if (found.schemaType !== 'JSON')
      throw new SchemaRegistryError(
        `subject ${found.subject} version ${found.version} is a ${found.schemaType} schema, not a JSON schema: set the sink's format to match, or name a JSON subject`,
      );
    this.#writer = { validate: compileJsonSchema(found.schema), header: header(found.id), version: found };
  }

  encode(record: Record<string, unknown>): EncodeResult {
    const writer = this.#writer;
    if (writer === undefined) throw new Error(`the JSON Schema serializer of subject ${this.writerSubject.subject} was not started`);
    if (!writer.validate(record)) {
      const error = writer.validate.errors?.[0];
      const at = error === undefined || error.instancePath === '' ? 'the result' : `field ${error.instancePath.slice(1).replaceAll('/', '.')}`;
      const value = error === undefined || error.instancePath === '' ? '' : ` (${quoted(valueAt(record, error.instancePath))})`;
      return {
        ok: false,
        reason: `the result does not fit subject ${writer.version.subject} version ${writer.version.version}: ${at}${value} ${error?.message ?? 'is refused'}`,
      };
    }
    return { ok: true, value: Buffer.concat([writer.header, Buffer.from(JSON.stringify(record))]) };
  }
}

/** The value at a JSON pointer such as /amount or /items/0/price. */
function valueAt(record: unknown, pointer: string): unknown {
  let at: unknown = record;
  for (const step of pointer.slice(1).split('/')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[step.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return at;
}
