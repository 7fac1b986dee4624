// Schemas from a Confluent-compatible schema registry over HTTP: by id (cached for good, ids never change) and a subject's version.
import { SluiceError } from '@sluice/crds/errors';
import { REGISTRY_ENV, RegistryAuthError, registryConnectionFromEnv, registryRequest, type RegistryConnection } from '@sluice/crds/registry-connection';
import { messageOf } from '../error-message.js';

/** A registered schema as the registry holds it. */
export interface RegisteredSchema {
  id: number;
  /** AVRO, JSON or PROTOBUF, as the registry names them. */
  schemaType: string;
  /** The schema's text: Avro or JSON Schema, as JSON. */
  schema: string;
}

/** A subject's version: the schema, its global id and the version number. */
export interface SubjectVersion extends RegisteredSchema {
  subject: string;
  version: number;
}

/** What the serdes ask of a registry; the HTTP client below, or a test's own. */
export interface SchemaRegistryClient {
  readonly url: string;
  /** The schema of a global id; undefined when the registry has no such id (the record is then dead-lettered). */
  byId(id: number): Promise<RegisteredSchema | undefined>;
  /** A subject's version (latest when absent); throws when the subject or version does not exist. */
  version(subject: string, version?: number): Promise<SubjectVersion>;
}

/** The registry could not be asked, or refused: retriable when it did not answer or answered 5xx. */
export class SchemaRegistryError extends SluiceError {
  readonly code = 'SLUICE_E_SCHEMA_REGISTRY';
}

/** How long one request to the registry may take before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 10_000;

export class HttpSchemaRegistryClient implements SchemaRegistryClient {
  readonly url: string;
  /** Ids are immutable in a Confluent registry: a schema read once is kept; a missing id is asked again next time. */
  readonly #byId = new Map<number, Promise<RegisteredSchema | undefined>>();

  readonly #connection: RegistryConnection;

  /** `connection`: the user and CA the registry asks for (registryConnectionFromEnv); none by default. */
  constructor(url: string, connection: RegistryConnection = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#connection = connection;
  }

  byId(id: number): Promise<RegisteredSchema | undefined> {
    let cached = this.#byId.get(id);
    if (cached === undefined) {
      cached = this.#get(`/schemas/ids/${id}`).then((body) => (body === undefined ? undefined : registered(id, body)));
      this.#byId.set(id, cached);
      // Neither a failure nor "not found" is kept: the registry may answer, or learn the id, later.
      cached.then(
        (found) => found === undefined && this.#byId.delete(id),
        () => this.#byId.delete(id),
      );
    }
    return cached;
  }

  async version(subject: string, version?: number): Promise<SubjectVersion> {
    const which = version === undefined ? 'latest' : String(version);
    const body = await this.#get(`/subjects/${encodeURIComponent(subject)}/versions/${which}`);
    if (body === undefined) {
      throw new SchemaRegistryError(
        `the schema registry at ${this.url} has no ${version === undefined ? 'version' : `version ${version}`} of subject ${subject}: register the schema (a SchemaSubject resource, or POST /subjects/${subject}/versions), or correct schema.subject${version === undefined ? '' : ' and schema.version'}`,
      );
    }
    const found = registered(Number(body.id), body);
    return { ...found, subject, version: Number(body.version) };
  }

  /** The answer's JSON body; undefined on 404. */
  async #get(path: string): Promise<Record<string, unknown> | undefined> {
    let response: { status: number; text: string };
    try {
      response = await registryRequest(this.url, this.#connection, {
        method: 'GET',
        path,
        headers: { accept: 'application/vnd.schemaregistry.v1+json' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      // A refused user stays refused until the Secret changes: not retriable, and the message says which Secret.
      if (error instanceof RegistryAuthError) throw new SchemaRegistryError(error.message, { cause: error });
      throw new SchemaRegistryError(
        `the schema registry at ${this.url} did not answer GET ${path} (${messageOf(error)}): check that it runs and that the URL is right`,
        { retriable: true, cause: error },
      );
    }
    if (response.status === 404) return undefined;
    if (response.status < 200 || response.status >= 300) {
      throw new SchemaRegistryError(`the schema registry at ${this.url} answered GET ${path} with ${response.status}: ${response.text.slice(0, 300)}`, {
        retriable: response.status >= 500,
      });
    }
    return JSON.parse(response.text) as Record<string, unknown>;
  }
}

function registered(id: number, body: Record<string, unknown>): RegisteredSchema {
  return { id, schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO', schema: String(body.schema) };
}

/** One client per registry URL, shared by a job's source and sinks so each schema is fetched once. */
export class SchemaRegistries {
  readonly #clients = new Map<string, SchemaRegistryClient>();

  constructor(private readonly open: (url: string) => SchemaRegistryClient = (url) => new HttpSchemaRegistryClient(url, connectionFromEnv())) {}

  at(url: string): SchemaRegistryClient {
    let client = this.#clients.get(url);
    if (client === undefined) {
      client = this.open(url);
      this.#clients.set(url, client);
    }
    return client;
  }
}

/** Where a runtime pod's (and streamctl's) registry user comes from, as a refusal names it. */
export const REGISTRY_CREDENTIALS_SOURCE = `${REGISTRY_ENV.user} and ${REGISTRY_ENV.password} (in a StreamJob's pods: the Secret of spec.connections.schemaRegistry.basicAuthSecretRef)`;

/** The user and CA of this process's environment; read when a job first asks a registry. */
function connectionFromEnv(): RegistryConnection {
  return registryConnectionFromEnv(process.env, REGISTRY_CREDENTIALS_SOURCE);
}
