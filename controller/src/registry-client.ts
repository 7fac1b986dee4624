// A small typed client of Confluent Schema Registry's REST API, enough for the SchemaSubject reconciler, with Confluent's error codes.
import { SluiceError } from '@sluice/crds/errors';
import { RegistryAuthError, registryRequest, type RegistryConnection } from '@sluice/crds/registry-connection';
export const contentType = 'application/vnd.schemaregistry.v1+json';

/** Confluent's error codes (the `error_code` of an error body). */
export const RegistryErrorCode = {
  SubjectNotFound: 40401,
  VersionNotFound: 40402,
  SchemaNotFound: 40403,
  SubjectSoftDeleted: 40404,
  SubjectNotSoftDeleted: 40405,
  SchemaVersionSoftDeleted: 40406,
  SchemaVersionNotSoftDeleted: 40407,
  SubjectCompatibilityNotConfigured: 40408,
  IncompatibleSchema: 409,
  InvalidSchema: 42201,
  InvalidVersion: 42202,
  InvalidCompatibilityLevel: 42203,
  InvalidMode: 42204,
  OperationNotPermitted: 42205,
  ReferenceExists: 42206,
  BackendStore: 50001,
  OperationTimeout: 50002,
  ForwardingError: 50003,
} as const;

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';
export type CompatibilityLevel = 'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface SchemaInput {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export interface RegisteredSchema {
  subject: string;
  id: number;
  version: number;
  schema: string;
  schemaType?: SchemaType;
}

export interface CompatibilityResult {
  isCompatible: boolean;
  /** The registry's reasons when it is not (with verbose=true). */
  messages: string[];
}

/** An error answer of the schema registry, as its client sees it (the registry's own is RegistryHttpError). */
export class RegistryError extends SluiceError {
  override readonly code = 'SLUICE_E_REGISTRY';

  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
  ) {
    // A 5xx answer is the registry's own trouble (its store, a timeout); the same request may succeed later.
    super(message, { retriable: status >= 500 });
  }

  /** A 4xx answer: the request itself is at fault and repeating it gives the same answer. */
  get clientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }
}

/** The registry operations the SchemaSubject reconciler uses; RegistryClient speaks them over HTTP. */
export interface SchemaRegistryApi {
  readonly url: string;
  lookup(subject: string, schema: SchemaInput): Promise<RegisteredSchema | undefined>;
  register(subject: string, schema: SchemaInput): Promise<number>;
  testCompatibility(subject: string, schema: SchemaInput): Promise<CompatibilityResult>;
  subjectCompatibility(subject: string): Promise<CompatibilityLevel | undefined>;
  setSubjectCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  deleteSubjectCompatibility(subject: string): Promise<void>;
  deleteSubject(subject: string, permanent?: boolean): Promise<number[]>;
}

export interface RegistryClientOptions {
  timeoutMs?: number;
  /** The user and CA the registry asks for; none by default. */
  connection?: RegistryConnection;
}

export class RegistryClient implements SchemaRegistryApi {
  private readonly base: string;

  constructor(
    url: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  /** The version of `subject` that holds this schema, or undefined (Confluent's POST /subjects/{subject}). */
  async lookup(subject: string, schema: SchemaInput): Promise<RegisteredSchema | undefined> {
    try {
      return await this.request<RegisteredSchema>('POST', `/subjects/${encodeURIComponent(subject)}`, body(schema));
    } catch (error) {
      if (isCode(error, RegistryErrorCode.SubjectNotFound, RegistryErrorCode.SchemaNotFound)) return undefined;
      throw error;
    }
  }

  /** Registers the schema as the subject's next version (or finds it registered); returns its global id. */
  async register(subject: string, schema: SchemaInput): Promise<number> {
    const { id } = await this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body(schema));
    return id;
  }

  /** Tests the schema against the subject's latest version; a subject without versions accepts anything. */
  async testCompatibility(subject: string, schema: SchemaInput): Promise<CompatibilityResult> {
    try {
      const result = await this.request<{ is_compatible: boolean; messages?: string[] }>(
        'POST',
        `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
        body(schema),
      );
      return { isCompatible: result.is_compatible, messages: result.messages ?? [] };
    } catch (error) {
      if (isCode(error, RegistryErrorCode.SubjectNotFound, RegistryErrorCode.VersionNotFound)) return { isCompatible: true, messages: [] };
      throw error;
    }
  }

  /** The subject's own compatibility level, or undefined when it follows the global one. */
  async subjectCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    try {
      const { compatibilityLevel } = await this.request<{ compatibilityLevel: CompatibilityLevel }>('GET', `/config/${encodeURIComponent(subject)}`);
      return compatibilityLevel;
    } catch (error) {
      if (isCode(error, RegistryErrorCode.SubjectNotFound, RegistryErrorCode.SubjectCompatibilityNotConfigured)) return undefined;
      throw error;
    }
  }

  async setSubjectCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  async deleteSubjectCompatibility(subject: string): Promise<void> {
    try {
      await this.request('DELETE', `/config/${encodeURIComponent(subject)}`);
    } catch (error) {
      if (!isCode(error, RegistryErrorCode.SubjectNotFound, RegistryErrorCode.SubjectCompatibilityNotConfigured)) throw error;
    }
  }

  /** The subject's versions; with `deleted`, soft-deleted ones too. Empty when the subject does not exist. */
  async versions(subject: string, deleted = false): Promise<number[]> {
    try {
      return await this.request<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions${deleted ? '?deleted=true' : ''}`);
    } catch (error) {
      if (isCode(error, RegistryErrorCode.SubjectNotFound)) return [];
      throw error;
    }
  }

  /** Soft-deletes the subject, or with `permanent` removes a soft-deleted one; returns the versions deleted. */
  async deleteSubject(subject: string, permanent = false): Promise<number[]> {
    return this.request<number[]>('DELETE', `/subjects/${encodeURIComponent(subject)}${permanent ? '?permanent=true' : ''}`);
  }

  private async request<T>(method: string, path: string, payload?: unknown): Promise<T> {
    let response: { status: number; text: string };
    try {
      response = await registryRequest(this.base, this.options.connection ?? {}, {
        method,
        path,
        headers: { accept: contentType, ...(payload === undefined ? {} : { 'content-type': contentType }) },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      // A refused user is the request's fault (4xx, not retried at once); the message says which Secret to check.
      if (error instanceof RegistryAuthError) throw new RegistryError(error.status ?? 401, undefined, error.message);
      throw error;
    }
    const { status, text } = response;
    const parsed: unknown = text === '' ? undefined : parseJson(text);
    if (status < 200 || status >= 300) {
      const error = (parsed ?? {}) as { error_code?: number; message?: string };
      throw new RegistryError(
        status,
        error.error_code,
        `${method} ${path}: ${error.message ?? (text || `HTTP ${status}`)} (HTTP ${status}${error.error_code === undefined ? '' : `, error ${error.error_code}`})`,
      );
    }
    return parsed as T;
  }
}

/**
 * The client of the registry at `url`. The controller's user goes only to its own registry (`defaultUrl`, same origin):
 * a SchemaSubject that names another spec.registryUrl must not receive the controller's password.
 */
export function registryClientFor(url: string, defaultUrl: string | undefined, connection: RegistryConnection | undefined): RegistryClient {
  const home = defaultUrl !== undefined && connection !== undefined && originOf(url) !== undefined && originOf(url) === originOf(defaultUrl);
  return new RegistryClient(url, home ? { connection } : {});
}

/** scheme://host:port of a URL; undefined for one that does not parse (its requests then fail and say so). */
function originOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin : undefined;
}

export function isCode(error: unknown, ...codes: number[]): boolean {
  return error instanceof RegistryError && error.errorCode !== undefined && codes.includes(error.errorCode);
}

function body(schema: SchemaInput): object {
  return {
    schema: schema.schema,
    // Confluent omits schemaType for Avro, its default; some registries refuse the field on old versions.
    ...(schema.schemaType === undefined || schema.schemaType === 'AVRO' ? {} : { schemaType: schema.schemaType }),
    ...(schema.references === undefined || schema.references.length === 0 ? {} : { references: schema.references }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
