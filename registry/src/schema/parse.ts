// Parsing a submitted schema of each type into its canonical text and the form the compatibility checks read.
import avro from 'avsc';
import { messageOf } from '@sluice/crds/errors';
import { invalidSchema } from '../errors.js';
import { avroCanonical } from './avro-canonical.js';
import { avroNamedTypes, maxAvroNamedTypes, maxNestingDepth, maxReferenceDepth, nestsDeeperThan } from './limits.js';
import { jsonSchemaProblems } from './json-meta.js';
import { unresolvedRef } from './json-refs.js';
import type { SchemaReference, SchemaType } from '../model.js';

/** A schema ready to compare: Avro as an avsc Type; JSON Schema as its document plus the documents it references by name. */
export type ParsedSchema =
  { schemaType: 'AVRO'; canonical: string; avro: avro.Type } | { schemaType: 'JSON'; canonical: string; json: unknown; referenced: Map<string, unknown> };

/** A referenced schema as the registry holds it, with its own references. */
export interface ReferencedSchema {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

/** Finds a reference's schema; undefined when the subject or version does not exist. */
export type ReferenceResolver = (reference: SchemaReference) => ReferencedSchema | undefined;

export function parseSchema(schemaType: SchemaType, text: string, references: SchemaReference[], resolve: ReferenceResolver): ParsedSchema {
  const document = parseJson(schemaType, text);
  const dependencies = collectReferences(references, resolve, new Set());
  const canonical = JSON.stringify(schemaType === 'AVRO' ? avroCanonical(document as Parameters<typeof avroCanonical>[0]) : document);
  if (schemaType === 'AVRO') {
    const referenced = dependencies.map((d) => parseJson('AVRO', d.schema.schema));
    const named = avroNamedTypes([document, ...referenced]);
    if (named > maxAvroNamedTypes) {
      throw invalidSchema(
        `of type AVRO, details: the schema and its references define ${named} named types (records, enums, fixed), more than the ${maxAvroNamedTypes} this registry accepts`,
      );
    }
    const registry: Record<string, avro.Type> = {};
    try {
      for (const dependency of referenced) avro.Type.forSchema(dependency as avro.Schema, { registry });
      return { schemaType, canonical, avro: avro.Type.forSchema(document as avro.Schema, { registry }) };
    } catch (error) {
      throw invalidSchema(`of type AVRO, details: ${messageOf(error)}`);
    }
  }
  if (typeof document !== 'object' && typeof document !== 'boolean') {
    throw invalidSchema('of type JSON, details: a JSON Schema is an object or a boolean');
  }
  const problems = jsonSchemaProblems(document);
  if (problems) throw invalidSchema(`of type JSON, details: ${problems}`);
  const referenced = new Map(dependencies.map((d) => [d.name, parseJson('JSON', d.schema.schema)]));
  const unresolved = unresolvedRef(document, referenced);
  if (unresolved) throw invalidSchema(`of type JSON, details: ${unresolved}`);
  return { schemaType, canonical, json: document, referenced };
}

/** The schema's JSON, refused before any recursive code sees it when it nests deeper than the parsers may recurse. */
function parseJson(schemaType: SchemaType, text: string): unknown {
  let document: unknown;
  try {
    document = JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidSchema(`of type ${schemaType}, details: the schema is not valid JSON (${messageOf(error)})`);
  }
  if (nestsDeeperThan(document, maxNestingDepth)) {
    throw invalidSchema(
      `of type ${schemaType}, details: the schema nests more than ${maxNestingDepth} levels of JSON arrays and objects, the most this registry accepts; flatten it, e.g. with named types or $ref definitions`,
    );
  }
  return document;
}

/** The references' schemas, each after the schemas it depends on, so named types exist before they are used. */
function collectReferences(
  references: SchemaReference[],
  resolve: ReferenceResolver,
  seen: Set<string>,
  depth = 1,
): Array<{ name: string; schema: ReferencedSchema }> {
  const ordered: Array<{ name: string; schema: ReferencedSchema }> = [];
  for (const reference of references) {
    if (depth > maxReferenceDepth) {
      throw invalidSchema(
        `: references chain more than ${maxReferenceDepth} deep (down to '${reference.name}' in subject '${reference.subject}'), the most this registry follows; reference the schemas you use directly`,
      );
    }
    const key = `${reference.subject}\u0000${reference.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const schema = resolve(reference);
    if (!schema) {
      throw invalidSchema(
        `: reference '${reference.name}' points to subject '${reference.subject}' version ${reference.version}, which does not exist; register it first`,
      );
    }
    ordered.push(...collectReferences(schema.references, resolve, seen, depth + 1), { name: reference.name, schema });
  }
  return ordered;
}
