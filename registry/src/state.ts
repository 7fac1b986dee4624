// The registry's state, rebuilt by applying the log's records in order; every replica applies the same records and so agrees.
import type { CompatibilityLevel, LogRecord, Mode, SchemaReference, SchemaType, SchemaVersion } from './model.js';

/** What an id stands for: the same content under every subject that registered it. */
export interface SchemaContent {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

/** The key under which the same schema gets the same id everywhere. */
export function contentFingerprint(content: SchemaContent): string {
  return JSON.stringify([content.schemaType, content.schema, content.references.map((r) => [r.name, r.subject, r.version])]);
}

export function contentOf(version: SchemaVersion): SchemaContent {
  return { schema: version.schema, schemaType: version.schemaType ?? 'AVRO', references: version.references ?? [] };
}

export class RegistryState {
  /** subject → version → the version's record (soft-deleted ones included, hard-deleted ones gone). */
  readonly subjects = new Map<string, Map<number, SchemaVersion>>();
  /** Ids are never reused: the content an id was first given stays its content, even after a hard delete. */
  readonly contentById = new Map<number, SchemaContent>();
  readonly idByFingerprint = new Map<string, number>();
  /** id → `subject\u0000version` of the versions that use it (soft-deleted included). */
  readonly usesOfId = new Map<number, Set<string>>();
  readonly compatibility = new Map<string | null, CompatibilityLevel>();
  readonly mode = new Map<string | null, Mode>();
  maxId = 0;

  /**
   * Applies one record. Returns false for a record that contradicts what is already applied (an id given to other
   * content, a version taken by another id); every replica refuses it alike, so its writer retries.
   */
  apply(record: LogRecord): boolean {
    switch (record.key.keytype) {
      case 'SCHEMA':
        return this.applySchema(record.key.subject, record.key.version, record.value as SchemaVersion | null);
      case 'CONFIG':
        this.setOrClear(this.compatibility, record.key.subject, (record.value as { compatibilityLevel: CompatibilityLevel } | null)?.compatibilityLevel);
        return true;
      case 'MODE':
        this.setOrClear(this.mode, record.key.subject, (record.value as { mode: Mode } | null)?.mode);
        return true;
      case 'DELETE_SUBJECT': {
        const upTo = (record.value as { version: number }).version;
        for (const version of this.subjects.get(record.key.subject)?.values() ?? []) {
          if (version.version <= upTo) version.deleted = true;
        }
        return true;
      }
      default:
        // Records this registry does not write (Confluent's NOOP, CONTEXT, CLEAR_SUBJECT) change nothing here.
        return true;
    }
  }

  private setOrClear<V>(map: Map<string | null, V>, subject: string | null, value: V | undefined): void {
    if (value === undefined) map.delete(subject);
    else map.set(subject, value);
  }

  private applySchema(subject: string, versionNumber: number, value: SchemaVersion | null): boolean {
    const versions = this.subjects.get(subject);
    const existing = versions?.get(versionNumber);
    if (value === null) {
      if (existing) {
        versions!.delete(versionNumber);
        if (versions!.size === 0) this.subjects.delete(subject);
        this.usesOfId.get(existing.id)?.delete(useKey(subject, versionNumber));
      }
      return true;
    }
    const content = contentOf(value);
    const fingerprint = contentFingerprint(content);
    const known = this.contentById.get(value.id);
    if (known && contentFingerprint(known) !== fingerprint) return false;
    if (existing && existing.id !== value.id) return false;
    const stored: SchemaVersion = { ...value, subject, version: versionNumber };
    if (!versions) this.subjects.set(subject, new Map([[versionNumber, stored]]));
    else versions.set(versionNumber, stored);
    if (!known) this.contentById.set(value.id, content);
    if (!this.idByFingerprint.has(fingerprint)) this.idByFingerprint.set(fingerprint, value.id);
    let uses = this.usesOfId.get(value.id);
    if (!uses) this.usesOfId.set(value.id, (uses = new Set()));
    uses.add(useKey(subject, versionNumber));
    this.maxId = Math.max(this.maxId, value.id);
    return true;
  }

  /** The subject's versions in order, soft-deleted ones only when asked for. */
  versionsOf(subject: string, includeDeleted: boolean): SchemaVersion[] {
    const versions = [...(this.subjects.get(subject)?.values() ?? [])].filter((v) => includeDeleted || !v.deleted);
    return versions.sort((a, b) => a.version - b.version);
  }

  /** The versions (subject, version) that use `id`, in a stable order. */
  usesOf(id: number): Array<{ subject: string; version: number }> {
    return [...(this.usesOfId.get(id) ?? [])]
      .map((use) => {
        const [subject, version] = use.split('\u0000') as [string, string];
        return { subject, version: Number(version) };
      })
      .sort((a, b) => (a.subject === b.subject ? a.version - b.version : a.subject < b.subject ? -1 : 1));
  }
}

function useKey(subject: string, version: number): string {
  return `${subject}\u0000${version}`;
}
