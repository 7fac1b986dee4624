// Compatibility levels: which earlier versions a new schema is compared with, and in which reading direction.
import { comparisonTooLarge } from '../errors.js';
import type { CompatibilityLevel } from '../model.js';
import type { ParsedSchema } from '../schema/parse.js';
import { avroIncompatibilities, type Roles } from './avro.js';
import { ComparisonTooLarge } from './bounds.js';
import { jsonIncompatibilities } from './json.js';

/** An earlier version of the subject, parsed. */
export interface EarlierVersion {
  version: number;
  schema: ParsedSchema;
}

/** Reasons listed per earlier version; the rest are counted, so a change to a type used everywhere answers in kilobytes. */
export const maxReasonsListed = 100;

const backward: Roles = { reader: 'new', writer: 'old' };
const forward: Roles = { reader: 'old', writer: 'new' };

/** Per level: compare with every earlier version (transitive) or the latest only, and the directions to read in. */
const levels: Record<CompatibilityLevel, { transitive: boolean; directions: Roles[] }> = {
  NONE: { transitive: false, directions: [] },
  BACKWARD: { transitive: false, directions: [backward] },
  BACKWARD_TRANSITIVE: { transitive: true, directions: [backward] },
  FORWARD: { transitive: false, directions: [forward] },
  FORWARD_TRANSITIVE: { transitive: true, directions: [forward] },
  FULL: { transitive: false, directions: [backward, forward] },
  FULL_TRANSITIVE: { transitive: true, directions: [backward, forward] },
};

/**
 * The reasons `candidate` is incompatible with `earlier` (oldest first) under `level`; empty when compatible.
 * Each failing comparison ends with the old version and the level, as Confluent's verbose answer does.
 */
export function compatibilityReasons(level: CompatibilityLevel, candidate: ParsedSchema, earlier: EarlierVersion[]): string[] {
  const { transitive, directions } = levels[level];
  const compared = transitive ? earlier : earlier.slice(-1);
  const reasons: string[] = [];
  for (const old of compared.slice().reverse()) {
    const found = directions.flatMap((roles) =>
      boundedIncompatibilities(roles.reader === 'new' ? candidate : old.schema, roles.reader === 'new' ? old.schema : candidate, roles, old.version),
    );
    if (found.length === 0) continue;
    reasons.push(...listed(found), `{oldSchemaVersion: ${old.version}}`, `{oldSchema: '${old.schema.canonical}'}`, `{compatibility: '${level}'}`);
  }
  return reasons;
}

function listed(found: string[]): string[] {
  if (found.length <= maxReasonsListed) return found;
  const more = found.length - maxReasonsListed;
  return [
    ...found.slice(0, maxReasonsListed),
    `{errorType:'MORE_INCOMPATIBILITIES', description:'${more} more incompatibilities of the same schemas are not listed'}`,
  ];
}

function boundedIncompatibilities(reader: ParsedSchema, writer: ParsedSchema, roles: Roles, oldVersion: number): string[] {
  try {
    return incompatibilities(reader, writer, roles);
  } catch (error) {
    if (error instanceof ComparisonTooLarge) throw comparisonTooLarge(oldVersion, error.limit);
    throw error;
  }
}

function incompatibilities(reader: ParsedSchema, writer: ParsedSchema, roles: Roles): string[] {
  if (reader.schemaType === 'AVRO' && writer.schemaType === 'AVRO') return avroIncompatibilities(reader.avro, writer.avro, roles);
  if (reader.schemaType === 'JSON' && writer.schemaType === 'JSON') {
    return jsonIncompatibilities({ root: reader.json, referenced: reader.referenced }, { root: writer.json, referenced: writer.referenced }, roles);
  }
  return [
    `{errorType:'SCHEMA_TYPE_CHANGED', description:'The ${roles.reader} schema is ${reader.schemaType} and the ${roles.writer} schema is ${writer.schemaType}'}`,
  ];
}
