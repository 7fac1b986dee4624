// The registry's errors: Confluent's HTTP status, error_code and message for each failure a client can hit.
import { SluiceError } from '@sluice/crds/errors';

/** A failure answered to the client as `{ error_code, message }` with `status` (the controller's client has its own, RegistryError). */
export class RegistryHttpError extends SluiceError {
  override readonly code = 'SLUICE_E_REGISTRY_HTTP';

  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    // 5xx: the store failed or timed out, and the same request may succeed later.
    super(message, { retriable: status >= 500 });
  }

  toBody(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const subjectNotFound = (subject: string) => new RegistryHttpError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (version: number | string) => new RegistryHttpError(404, 40402, `Version ${version} not found.`);
export const schemaNotFound = (id?: number) => new RegistryHttpError(404, 40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`);
export const subjectSoftDeleted = (subject: string) =>
  new RegistryHttpError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (subject: string) =>
  new RegistryHttpError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (subject: string, version: number) =>
  new RegistryHttpError(404, 40406, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (subject: string, version: number) =>
  new RegistryHttpError(404, 40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`);
export const subjectCompatibilityNotConfigured = (subject: string) =>
  new RegistryHttpError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
export const subjectModeNotConfigured = (subject: string) =>
  new RegistryHttpError(404, 40409, `Subject '${subject}' does not have subject-level mode configured`);

export const incompatibleSchema = (subject: string, reasons: string[]) =>
  new RegistryHttpError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${reasons.join(', ')}]`);

export const invalidSchema = (detail: string) => new RegistryHttpError(422, 42201, `Invalid schema ${detail}`);
export const comparisonTooLarge = (oldVersion: number, limit: string) =>
  new RegistryHttpError(
    422,
    42201,
    `Invalid schema: checking its compatibility with version ${oldVersion} ${limit}, past this registry's limit; use fewer levels of named types or $ref definitions, or set the subject's compatibility to NONE`,
  );
export const invalidVersion = (version: string) =>
  new RegistryHttpError(
    422,
    42202,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
export const invalidCompatibilityLevel = (level: unknown) =>
  new RegistryHttpError(
    422,
    42203,
    `Invalid compatibility level '${String(level)}'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`,
  );
export const invalidMode = (mode: unknown) =>
  new RegistryHttpError(422, 42204, `Invalid mode '${String(mode)}'. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT`);
export const operationNotPermitted = (message: string) => new RegistryHttpError(422, 42205, message);
export const referenceExists = (subject: string, version: number) =>
  new RegistryHttpError(422, 42206, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`);
export const idDoesNotMatch = (message: string) => new RegistryHttpError(422, 42207, message);
export const invalidSubject = (subject: string) =>
  new RegistryHttpError(422, 42208, `The specified subject '${subject}' is not a valid subject: it must be non-empty and hold no control characters.`);
export const badRequest = (message: string) => new RegistryHttpError(400, 400, message);
export const requestTooLarge = (limit: number) =>
  new RegistryHttpError(413, 413, `The request body is larger than ${limit} bytes, the most this registry reads; a schema and its request must fit in it`);
export const recordTooLarge = (topic: string, bytes: number) =>
  new RegistryHttpError(
    413,
    413,
    `The schema's record in the log (${bytes} bytes) is larger than Kafka accepts on topic '${topic}'; raise the topic's max.message.bytes (and the broker's message.max.bytes) or register a smaller schema`,
  );
export const unprocessable = (message: string) => new RegistryHttpError(422, 422, message);
export const storeError = (message: string) => new RegistryHttpError(500, 50001, `Error in the backend data store: ${message}`);
export const operationTimeout = (message: string) => new RegistryHttpError(500, 50002, message);
