// The registry's data: schema versions, compatibility levels, modes, and the log records (Confluent's `_schemas` keys and values) they are kept as.

export type SchemaType = 'AVRO' | 'JSON';
export const schemaTypes: readonly SchemaType[] = ['JSON', 'AVRO'];

export const compatibilityLevels = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

export const modes = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof modes)[number];

/** A reference from one schema to another subject's version, by the name the schema uses for it. */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** One version of a subject, exactly as the SCHEMA record's value holds it. */
export interface SchemaVersion {
  subject: string;
  version: number;
  id: number;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  schema: string;
  deleted: boolean;
}

export interface SchemaKey {
  keytype: 'SCHEMA';
  subject: string;
  version: number;
  magic: 1;
}
export interface ConfigKey {
  keytype: 'CONFIG';
  subject: string | null;
  magic: 0;
}
export interface ModeKey {
  keytype: 'MODE';
  subject: string | null;
  magic: 0;
}
export interface DeleteSubjectKey {
  keytype: 'DELETE_SUBJECT';
  subject: string;
  magic: 0;
}

/** A record of the log; a null value is a tombstone (hard delete, or a subject setting removed). */
export type LogRecord =
  | { key: SchemaKey; value: SchemaVersion | null }
  | { key: ConfigKey; value: { compatibilityLevel: CompatibilityLevel } | null }
  | { key: ModeKey; value: { mode: Mode } | null }
  | { key: DeleteSubjectKey; value: { subject: string; version: number } };

export const schemaKey = (subject: string, version: number): SchemaKey => ({ keytype: 'SCHEMA', subject, version, magic: 1 });
export const configKey = (subject: string | null): ConfigKey => ({ keytype: 'CONFIG', subject, magic: 0 });
export const modeKey = (subject: string | null): ModeKey => ({ keytype: 'MODE', subject, magic: 0 });
export const deleteSubjectKey = (subject: string): DeleteSubjectKey => ({ keytype: 'DELETE_SUBJECT', subject, magic: 0 });

/** The identity of a record for compaction: later records with the same key replace earlier ones. */
export function recordIdentity(key: LogRecord['key']): string {
  return key.keytype === 'SCHEMA' ? JSON.stringify([key.keytype, key.subject, key.version]) : JSON.stringify([key.keytype, key.subject]);
}
