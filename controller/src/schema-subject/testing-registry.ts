// An in-memory schema registry for unit tests of the SchemaSubject reconciler, with Confluent's error codes where the reconciler reads them.
import {
  RegistryError,
  RegistryErrorCode,
  type CompatibilityLevel,
  type CompatibilityResult,
  type RegisteredSchema,
  type SchemaInput,
  type SchemaRegistryApi,
} from '../registry-client.js';

interface Subject {
  versions: { version: number; id: number; schema: string }[];
  deleted: boolean;
  level?: CompatibilityLevel;
}

export class TestingRegistry implements SchemaRegistryApi {
  readonly url = 'http://registry.test';
  readonly subjects = new Map<string, Subject>();
  /** The calls that change the registry, as `register s`, `config s LEVEL`, `delete s`, `delete s permanent`. */
  readonly changes: string[] = [];
  private readonly ids = new Map<string, number>();

  /** `incompatible(previous, next)` returns the reasons a change is refused, none when it is allowed. */
  constructor(private readonly incompatible: (previous: string, next: string) => string[] = () => []) {}

  lookup(subject: string, schema: SchemaInput): Promise<RegisteredSchema | undefined> {
    const found = this.live(subject)?.versions.find((version) => version.schema === schema.schema);
    return Promise.resolve(found === undefined ? undefined : { subject, ...found });
  }

  register(subject: string, schema: SchemaInput): Promise<number> {
    const entry = this.subjects.get(subject) ?? { versions: [], deleted: false };
    const id = this.ids.get(schema.schema) ?? this.ids.size + 1;
    this.ids.set(schema.schema, id);
    entry.versions.push({ version: (entry.versions.at(-1)?.version ?? 0) + 1, id, schema: schema.schema });
    entry.deleted = false;
    this.subjects.set(subject, entry);
    this.changes.push(`register ${subject}`);
    return Promise.resolve(id);
  }

  testCompatibility(subject: string, schema: SchemaInput): Promise<CompatibilityResult> {
    const latest = this.live(subject)?.versions.at(-1);
    const messages = latest === undefined ? [] : this.incompatible(latest.schema, schema.schema);
    return Promise.resolve({ isCompatible: messages.length === 0, messages });
  }

  subjectCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    return Promise.resolve(this.subjects.get(subject)?.level);
  }

  setSubjectCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    const entry = this.subjects.get(subject) ?? { versions: [], deleted: false };
    entry.level = level;
    this.subjects.set(subject, entry);
    this.changes.push(`config ${subject} ${level}`);
    return Promise.resolve();
  }

  deleteSubjectCompatibility(subject: string): Promise<void> {
    const entry = this.subjects.get(subject);
    if (entry !== undefined) delete entry.level;
    return Promise.resolve();
  }

  deleteSubject(subject: string, permanent = false): Promise<number[]> {
    const entry = this.subjects.get(subject);
    if (entry === undefined || entry.versions.length === 0)
      return Promise.reject(new RegistryError(404, RegistryErrorCode.SubjectNotFound, `Subject '${subject}' not found.`));
    if (!permanent && entry.deleted)
      return Promise.reject(new RegistryError(404, RegistryErrorCode.SubjectSoftDeleted, `Subject '${subject}' was soft deleted.`));
    if (permanent && !entry.deleted)
      return Promise.reject(new RegistryError(404, RegistryErrorCode.SubjectNotSoftDeleted, `Subject '${subject}' was not deleted first.`));
    this.changes.push(`delete ${subject}${permanent ? ' permanent' : ''}`);
    const versions = entry.versions.map((version) => version.version);
    if (permanent) this.subjects.delete(subject);
    else entry.deleted = true;
    return Promise.resolve(versions);
  }

  private live(subject: string): Subject | undefined {
    const entry = this.subjects.get(subject);
    return entry === undefined || entry.deleted ? undefined : entry;
  }
}
