// The registry's operations (Confluent's semantics): register, look up, delete, test compatibility, configure; writes go through the store's log.
import { compatibilityReasons, type EarlierVersion } from './compat/check.js';
import * as errors from './errors.js';
import {
  compatibilityLevels,
  configKey,
  deleteSubjectKey,
  modeKey,
  modes,
  schemaKey,
  schemaTypes,
  type CompatibilityLevel,
  type LogRecord,
  type Mode,
  type SchemaReference,
  type SchemaType,
  type SchemaVersion,
} from './model.js';
import { parseSchema, type ParsedSchema, type ReferencedSchema } from './schema/parse.js';
import { contentFingerprint, contentOf, RegistryState, type SchemaContent } from './state.js';
import type { Store } from './store/store.js';

/** What a client sends to register, look up or test a schema. */
export interface SchemaRequest {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
  /** Only in IMPORT mode: the id and version the schema had where it comes from. */
  id?: unknown;
  version?: unknown;
}

export interface CompatibilityResult {
  is_compatible: boolean;
  messages?: string[];
}

export const defaultCompatibility: CompatibilityLevel = 'BACKWARD';
export const defaultMode: Mode = 'READWRITE';
/** Concurrent writers on one log can race for an id or a version; the loser re-reads and tries again this often. */
const writeAttempts = 5;

export class SchemaRegistry {
  readonly state = new RegistryState();
  private readonly parsedById = new Map<number, ParsedSchema>();
  private writing: Promise<unknown> = Promise.resolve();

  constructor(readonly store: Store) {}

  open(): Promise<void> {
    return this.store.open((record) => this.state.apply(record));
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Runs writes one at a time in this process, so each decides on the state its predecessor left. */
  private exclusive<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writing.then(write, write);
    this.writing = next.catch(() => undefined);
    return next;
  }

  listSubjects(includeDeleted: boolean, prefix = ''): string[] {
    return [...this.state.subjects.keys()].filter((subject) => subject.startsWith(prefix) && this.state.versionsOf(subject, includeDeleted).length > 0).sort();
  }

  listVersions(subject: string, includeDeleted: boolean): number[] {
    const versions = this.state.versionsOf(subject, includeDeleted);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  getVersion(subject: string, versionText: string, includeDeleted: boolean): SchemaVersion {
    const wanted = parseVersion(versionText);
    const versions = this.state.versionsOf(subject, includeDeleted);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    const found = wanted === 'latest' ? versions[versions.length - 1] : versions.find((v) => v.version === wanted);
    if (!found) throw errors.versionNotFound(versionText);
    return found;
  }

  getById(id: number, includeDeleted = true): SchemaContent {
    const content = this.state.contentById.get(id);
    const uses = this.usesOf(id, includeDeleted);
    if (!content || uses.length === 0) throw errors.schemaNotFound(id);
    return content;
  }

  usesOf(id: number, includeDeleted: boolean): Array<{ subject: string; version: number }> {
    return this.state.usesOf(id).filter((use) => includeDeleted || !this.state.subjects.get(use.subject)?.get(use.version)?.deleted);
  }

  /** Ids of the live versions whose references point at `subject` `version`. */
  referencedBy(subject: string, version: number): number[] {
    const ids = new Set<number>();
    for (const versions of this.state.subjects.values()) {
      for (const candidate of versions.values()) {
        if (candidate.deleted) continue;
        if ((candidate.references ?? []).some((r) => r.subject === subject && r.version === version)) ids.add(candidate.id);
      }
    }
    return [...ids].sort((a, b) => a - b);
  }

  listSchemas(prefix: string, includeDeleted: boolean, latestOnly: boolean): SchemaVersion[] {
    return this.listSubjects(includeDeleted, prefix).flatMap((subject) => {
      const versions = this.state.versionsOf(subject, includeDeleted);
      return latestOnly ? versions.slice(-1) : versions;
    });
  }

  register(subject: string, request: SchemaRequest): Promise<number> {
    checkSubject(subject);
    this.refuseIfReadOnly(subject);
    // A schema this replica already holds under the subject needs no write and no read to the log's end (the hot path of serializers).
    const imported = request.id !== undefined || request.version !== undefined;
    const known = imported ? undefined : this.liveIdUnder(subject, contentFingerprint(this.parseRequest(request).content));
    if (known !== undefined) return Promise.resolve(known);
    return this.exclusive(async () => {
      await this.store.sync();
      for (let attempt = 0; attempt < writeAttempts; attempt++) {
        this.refuseIfReadOnly(subject);
        const { parsed, content } = this.parseRequest(request);
        const fingerprint = contentFingerprint(content);
        const importing = this.effectiveMode(subject) === 'IMPORT';
        const placement = this.importedPlacement(subject, request, fingerprint, importing);
        const same = this.liveIdUnder(subject, fingerprint);
        if (same !== undefined && (placement.version === undefined || this.state.subjects.get(subject)?.get(placement.version)?.id === same)) return same;
        const live = this.state.versionsOf(subject, false);
        if (!importing) {
          const reasons = compatibilityReasons(this.effectiveCompatibility(subject), parsed, this.earlier(live));
          if (reasons.length > 0) throw errors.incompatibleSchema(subject, reasons);
        }
        const id = placement.id ?? this.state.idByFingerprint.get(fingerprint) ?? this.state.maxId + 1;
        const version = placement.version ?? Math.max(0, ...this.state.versionsOf(subject, true).map((v) => v.version)) + 1;
        const value: SchemaVersion = { subject, version, id, ...typeAndReferences(content), schema: content.schema, deleted: false };
        const [accepted] = await this.store.append([{ key: schemaKey(subject, version), value }]);
        if (accepted) return id;
        await this.reassertWinner(subject, version);
        await this.store.sync();
      }
      throw errors.storeError(`registering under '${subject}' lost ${writeAttempts} races with other registry replicas; retry the request`);
    });
  }

  /** The id and version a request asks for: allowed in IMPORT mode only, and never over other content (42207). */
  private importedPlacement(subject: string, request: SchemaRequest, fingerprint: string, importing: boolean): { id?: number; version?: number } {
    const id = request.id === undefined ? undefined : Number(request.id);
    const version = request.version === undefined ? undefined : Number(request.version);
    if (id === undefined && version === undefined) return {};
    if (!importing)
      throw errors.operationNotPermitted(`Subject ${subject} is not in import mode: put it in IMPORT mode to register with a given id or version`);
    if (id !== undefined) {
      if (!Number.isSafeInteger(id) || id < 1) throw errors.unprocessable(`id ${String(request.id)} is not a schema id: give a positive integer`);
      const existing = this.state.idByFingerprint.get(fingerprint);
      if (existing !== undefined && existing !== id) throw errors.idDoesNotMatch(`Schema already registered with id ${existing} instead of input id ${id}`);
      const taken = this.state.contentById.get(id);
      if (taken && contentFingerprint(taken) !== fingerprint) throw errors.idDoesNotMatch(`Overwrite new schema with id ${id} is not permitted.`);
    }
    if (version !== undefined) {
      if (!Number.isInteger(version) || version < 1) throw errors.invalidVersion(String(request.version));
      const held = this.state.subjects.get(subject)?.get(version);
      if (held && contentFingerprint(contentOf(held)) !== fingerprint)
        throw errors.idDoesNotMatch(`Overwrite new schema with version ${version} is not permitted.`);
    }
    return { ...(id === undefined ? {} : { id }), ...(version === undefined ? {} : { version }) };
  }

  private liveIdUnder(subject: string, fingerprint: string): number | undefined {
    return this.state.versionsOf(subject, false).find((v) => contentFingerprint(contentOf(v)) === fingerprint)?.id;
  }

  /** After losing a race for a version, writes the winner again so the compacted log keeps the winner under that key. */
  private async reassertWinner(subject: string, version: number): Promise<void> {
    const winner = this.state.subjects.get(subject)?.get(version);
    if (winner) await this.store.append([{ key: schemaKey(subject, version), value: { ...winner } }]);
  }

  lookup(subject: string, request: SchemaRequest, includeDeleted: boolean): SchemaVersion {
    const versions = this.state.versionsOf(subject, includeDeleted);
    if (versions.length === 0) throw errors.subjectNotFound(subject);
    const fingerprint = contentFingerprint(this.parseRequest(request).content);
    const found = versions.filter((v) => contentFingerprint(contentOf(v)) === fingerprint).pop();
    if (!found) throw errors.schemaNotFound();
    return found;
  }

  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.exclusive(async () => {
      await this.store.sync();
      const all = this.state.versionsOf(subject, true);
      if (all.length === 0) throw errors.subjectNotFound(subject);
      this.refuseIfReadOnly(subject);
      const live = all.filter((v) => !v.deleted);
      if (!permanent) {
        if (live.length === 0) throw errors.subjectSoftDeleted(subject);
        for (const version of live) this.refuseIfReferenced(subject, version.version);
        await this.store.append([{ key: deleteSubjectKey(subject), value: { subject, version: live[live.length - 1]!.version } }]);
        return live.map((v) => v.version);
      }
      if (live.length > 0) throw errors.subjectNotSoftDeleted(subject);
      for (const version of all) this.refuseIfReferenced(subject, version.version);
      const records: LogRecord[] = all.map((v) => ({ key: schemaKey(subject, v.version), value: null }));
      if (this.state.compatibility.has(subject)) records.push({ key: configKey(subject), value: null });
      if (this.state.mode.has(subject)) records.push({ key: modeKey(subject), value: null });
      await this.store.append(records);
      return all.map((v) => v.version);
    });
  }

  deleteVersion(subject: string, versionText: string, permanent: boolean): Promise<number> {
    const wanted = parseVersion(versionText);
    return this.exclusive(async () => {
      await this.store.sync();
      const all = this.state.versionsOf(subject, true);
      if (all.length === 0) throw errors.subjectNotFound(subject);
      this.refuseIfReadOnly(subject);
      const candidates = permanent ? all : all.filter((v) => !v.deleted);
      const found = wanted === 'latest' ? candidates[candidates.length - 1] : all.find((v) => v.version === wanted);
      if (!found) throw errors.versionNotFound(versionText);
      if (!permanent && found.deleted) throw errors.versionSoftDeleted(subject, found.version);
      if (permanent && !found.deleted) throw errors.versionNotSoftDeleted(subject, found.version);
      this.refuseIfReferenced(subject, found.version);
      await this.store.append([{ key: schemaKey(subject, found.version), value: permanent ? null : { ...found, deleted: true } }]);
      return found.version;
    });
  }

  /** Tests `request` against one version (`versionText`) or, without it, against the versions the subject's level names. */
  testCompatibility(subject: string, versionText: string | undefined, request: SchemaRequest): CompatibilityResult {
    const { parsed } = this.parseRequest(request);
    const level = this.effectiveCompatibility(subject);
    const live = this.state.versionsOf(subject, false);
    let earlier = live;
    if (versionText !== undefined) {
      const wanted = parseVersion(versionText);
      if (live.length === 0 && wanted !== 'latest') throw errors.subjectNotFound(subject);
      if (wanted !== 'latest') {
        const found = live.find((v) => v.version === wanted);
        if (!found) throw errors.versionNotFound(versionText);
        earlier = [found];
      } else {
        earlier = live.slice(-1);
      }
    }
    const messages = compatibilityReasons(level, parsed, this.earlier(earlier));
    return { is_compatible: messages.length === 0, messages };
  }

  globalCompatibility(): CompatibilityLevel {
    return this.state.compatibility.get(null) ?? defaultCompatibility;
  }

  subjectCompatibility(subject: string, defaultToGlobal: boolean): CompatibilityLevel {
    const level = this.state.compatibility.get(subject);
    if (level) return level;
    if (defaultToGlobal) return this.globalCompatibility();
    throw errors.subjectCompatibilityNotConfigured(subject);
  }

  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.subjectCompatibility(subject, true);
  }

  setCompatibility(subject: string | null, level: unknown): Promise<CompatibilityLevel> {
    const valid = compatibilityLevels.find((l) => typeof level === 'string' && l === level.toUpperCase());
    if (!valid) throw errors.invalidCompatibilityLevel(level);
    if (subject !== null) checkSubject(subject);
    return this.writeSetting({ key: configKey(subject), value: { compatibilityLevel: valid } }).then(() => valid);
  }

  /** Removing a subject level that is not set answers 40401, as Confluent does. */
  deleteCompatibility(subject: string | null): Promise<CompatibilityLevel> {
    const previous = subject === null ? this.globalCompatibility() : this.state.compatibility.get(subject);
    if (!previous) throw errors.subjectNotFound(subject ?? '');
    return this.writeSetting({ key: configKey(subject), value: null }).then(() => previous);
  }

  globalMode(): Mode {
    return this.state.mode.get(null) ?? defaultMode;
  }

  subjectMode(subject: string, defaultToGlobal: boolean): Mode {
    const mode = this.state.mode.get(subject);
    if (mode) return mode;
    if (defaultToGlobal) return this.globalMode();
    throw errors.subjectModeNotConfigured(subject);
  }

  effectiveMode(subject: string): Mode {
    return this.subjectMode(subject, true);
  }

  setMode(subject: string | null, mode: unknown, force: boolean): Promise<Mode> {
    const valid = modes.find((m) => typeof mode === 'string' && m === mode.toUpperCase());
    if (!valid) throw errors.invalidMode(mode);
    if (valid === 'IMPORT' && !force) {
      const existing = subject === null ? this.listSubjects(true) : this.listSubjects(true).filter((s) => s === subject);
      if (existing.length > 0) throw errors.operationNotPermitted(`Cannot import since found existing subjects; set force=true to import into them anyway`);
    }
    return this.writeSetting({ key: modeKey(subject), value: { mode: valid } }).then(() => valid);
  }

  deleteMode(subject: string): Promise<Mode> {
    const previous = this.state.mode.get(subject);
    if (!previous) throw errors.subjectNotFound(subject);
    return this.writeSetting({ key: modeKey(subject), value: null }).then(() => previous);
  }

  private writeSetting(record: LogRecord): Promise<void> {
    return this.exclusive(async () => {
      await this.store.append([record]);
    });
  }

  private refuseIfReadOnly(subject: string): void {
    const mode = this.effectiveMode(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw errors.operationNotPermitted(`Subject ${subject} is in read-only mode`);
  }

  private refuseIfReferenced(subject: string, version: number): void {
    if (this.referencedBy(subject, version).length > 0) throw errors.referenceExists(subject, version);
  }

  private earlier(versions: SchemaVersion[]): EarlierVersion[] {
    return versions.map((v) => ({ version: v.version, schema: this.parsedContent(v.id, contentOf(v)) }));
  }

  /** An id's content never changes, so its parse is kept. */
  private parsedContent(id: number, content: SchemaContent): ParsedSchema {
    let parsed = this.parsedById.get(id);
    if (!parsed) {
      parsed = parseSchema(content.schemaType, content.schema, content.references, (r) => this.resolveReference(r));
      this.parsedById.set(id, parsed);
    }
    return parsed;
  }

  private resolveReference(reference: SchemaReference): ReferencedSchema | undefined {
    const versions = this.state.versionsOf(reference.subject, true);
    const found = reference.version === -1 ? versions[versions.length - 1] : versions.find((v) => v.version === reference.version);
    return found && contentOf(found);
  }

  private parseRequest(request: SchemaRequest): { parsed: ParsedSchema; content: SchemaContent } {
    if (typeof request !== 'object' || request === null || typeof request.schema !== 'string' || request.schema.trim() === '') {
      throw errors.invalidSchema(': the request body needs a \'schema\' string, e.g. {"schema": "{\\"type\\": \\"string\\"}"}');
    }
    const schemaType = request.schemaType ?? 'AVRO';
    if (!schemaTypes.includes(schemaType as SchemaType)) {
      throw errors.invalidSchema(`: schemaType ${JSON.stringify(schemaType)} is not supported here; use AVRO or JSON`);
    }
    const references = parseReferences(request.references);
    const parsed = parseSchema(schemaType as SchemaType, request.schema, references, (r) => this.resolveReference(r));
    return { parsed, content: { schema: parsed.canonical, schemaType: schemaType as SchemaType, references } };
  }
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  const valid = (r: unknown): r is SchemaReference =>
    typeof r === 'object' &&
    r !== null &&
    typeof (r as SchemaReference).name === 'string' &&
    typeof (r as SchemaReference).subject === 'string' &&
    Number.isInteger((r as SchemaReference).version);
  if (!Array.isArray(value) || !value.every(valid)) {
    throw errors.invalidSchema(': \'references\' must be a list of {"name": string, "subject": string, "version": integer}');
  }
  return value.map((r) => ({ name: r.name, subject: r.subject, version: r.version }));
}

/** Confluent leaves schemaType out for Avro and references out when there are none. */
function typeAndReferences(content: SchemaContent): Pick<SchemaVersion, 'schemaType' | 'references'> {
  return {
    ...(content.schemaType === 'AVRO' ? {} : { schemaType: content.schemaType }),
    ...(content.references.length > 0 ? { references: content.references } : {}),
  };
}

/** `latest` (or -1), or a version between 1 and 2^31-1. */
export function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  const version = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(version) || version < 1 || version > 2 ** 31 - 1) throw errors.invalidVersion(text);
  return version;
}

function checkSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (subject.trim() === '' || /[\u0000-\u001f]/.test(subject)) throw errors.invalidSubject(subject);
}
