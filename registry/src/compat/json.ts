// JSON Schema compatibility in Confluent's terms (open and closed content models): can every document the writer allows pass the reader?
import type { Roles } from './avro.js';
import { ComparisonBudget, CompatiblePairs, PairSet } from './bounds.js';

type Schema = Record<string, unknown>;

interface Side {
  root: unknown;
  referenced: Map<string, unknown>;
}

const difference = (errorType: string, path: string, description: string) =>
  `{errorType:'${errorType}', description:'${description}', additionalInfo:'${path}'}`;

/**
 * Everything that lets a document valid under `writer` fail `reader`; empty when none does.
 * Throws ComparisonTooLarge when the comparison goes past the budget's depth or steps.
 */
export function jsonIncompatibilities(reader: Side, writer: Side, roles: Roles, budget = new ComparisonBudget()): string[] {
  return new JsonSchemaDiff(reader, writer, roles, budget).compare(reader.root, writer.root, '#', 0);
}

/** A `$ref` to a `$ref` is followed this many times; a cycle of bare `$ref`s resolves to what it reached by then. */
const maxRefHops = 32;

class JsonSchemaDiff {
  /** Pairs of subschemas being compared: a recursive `$ref` that comes back to one is taken as compatible, as Avro does with recursive records. */
  private readonly inProgress = new PairSet<object, object>();
  /** A definition used by many properties is compared once per reader and writer pair. */
  private readonly compatible = new CompatiblePairs<object, object>();

  constructor(
    private readonly reader: Side,
    private readonly writer: Side,
    private readonly roles: Roles,
    private readonly budget: ComparisonBudget,
  ) {}

  compare(readerNode: unknown, writerNode: unknown, path: string, depth: number): string[] {
    this.budget.spend(depth);
    const reader = this.resolve(this.reader, readerNode);
    const writer = this.resolve(this.writer, writerNode);
    if (typeof reader !== 'object' || reader === null || typeof writer !== 'object' || writer === null) return this.compareSchemas(reader, writer, path, depth);
    if (this.inProgress.has(reader, writer)) {
      this.compatible.assume();
      return [];
    }
    if (this.compatible.has(reader, writer)) return [];
    this.inProgress.add(reader, writer);
    try {
      return this.compatible.remember(reader, writer, () => this.compareSchemas(reader, writer, path, depth));
    } finally {
      this.inProgress.delete(reader, writer);
    }
  }

  private compareSchemas(reader: unknown, writer: unknown, path: string, depth: number): string[] {
    if (reader === true || isEmpty(reader)) return [];
    if (reader === false) return writer === false ? [] : [difference('TYPE_NARROWED', path, `The ${this.roles.reader} schema at '${path}' accepts nothing`)];
    if (writer === false) return [];
    if (writer === true)
      return [difference('TYPE_NARROWED', path, `The ${this.roles.reader} schema at '${path}' constrains a value the ${this.roles.writer} schema leaves open`)];
    const r = reader as Schema;
    const w = writer as Schema;
    const combined = this.compareCombined(r, w, path, depth);
    if (combined) return combined;
    return [
      ...this.compareTypes(r, w, path),
      ...this.compareEnums(r, w, path),
      ...this.compareBounds(r, w, path),
      ...this.compareObjects(r, w, path, depth),
      ...this.compareArrays(r, w, path, depth),
    ];
  }

  /** Follows `$ref` within the document (`#/...`) or into a referenced schema by its reference name. */
  private resolve(side: Side, node: unknown): unknown {
    let current = node;
    for (let hops = 0; hops < maxRefHops && isObject(current) && typeof current.$ref === 'string'; hops++) {
      const [documentName, pointer = ''] = current.$ref.split('#');
      const document = documentName ? side.referenced.get(documentName) : side.root;
      if (document === undefined) return true;
      current = pointerGet(document, pointer);
    }
    return current;
  }

  private compareCombined(reader: Schema, writer: Schema, path: string, depth: number): string[] | undefined {
    const readerBranches = branches(reader);
    const writerBranches = branches(writer);
    if (!readerBranches && !writerBranches) return undefined;
    const writerEach = writerBranches ?? [writer];
    const readerAny = readerBranches ?? [reader];
    const unreadable = writerEach.filter((branch) => !readerAny.some((r) => this.compare(r, branch, path, depth + 1).length === 0));
    if (unreadable.length === 0) return [];
    return [
      difference(
        'COMBINED_TYPE_SUBSCHEMAS_CHANGED',
        path,
        `The ${this.roles.reader} schema at '${path}' has no subschema that accepts ${unreadable.length} of the ${this.roles.writer} schema's alternatives`,
      ),
    ];
  }

  private compareTypes(reader: Schema, writer: Schema, path: string): string[] {
    const readerTypes = typesOf(reader);
    if (!readerTypes) return [];
    const writerTypes = typesOf(writer);
    if (!writerTypes) {
      return [
        difference(
          'TYPE_NARROWED',
          path,
          `The ${this.roles.reader} schema restricts '${path}' to ${[...readerTypes].join(', ')}, which the ${this.roles.writer} schema left open`,
        ),
      ];
    }
    const unread = [...writerTypes].filter((t) => !readerTypes.has(t) && !(t === 'integer' && readerTypes.has('number')));
    if (unread.length === 0) return [];
    const narrowed = [...readerTypes].every((t) => writerTypes.has(t));
    return [
      difference(
        narrowed ? 'TYPE_NARROWED' : 'TYPE_CHANGED',
        path,
        `The type of '${path}' is ${[...writerTypes].join(', ')} in the ${this.roles.writer} schema and ${[...readerTypes].join(', ')} in the ${this.roles.reader} schema`,
      ),
    ];
  }

  private compareEnums(reader: Schema, writer: Schema, path: string): string[] {
    if (!Array.isArray(reader.enum)) return [];
    const readerValues = new Set(reader.enum.map((v) => JSON.stringify(v)));
    if (!Array.isArray(writer.enum)) {
      return [
        difference('ENUM_ARRAY_NARROWED', path, `The ${this.roles.reader} schema adds an enum to '${path}' that the ${this.roles.writer} schema did not have`),
      ];
    }
    const missing = writer.enum.filter((v) => !readerValues.has(JSON.stringify(v)));
    if (missing.length === 0) return [];
    return [
      difference(
        'ENUM_ARRAY_NARROWED',
        path,
        `The enum of '${path}' in the ${this.roles.reader} schema lacks ${missing.map((v) => JSON.stringify(v)).join(', ')}`,
      ),
    ];
  }

  /** Limits that may only stay or loosen: [keyword, error prefix, true when a larger value is looser]. */
  private compareBounds(reader: Schema, writer: Schema, path: string): string[] {
    const limits: Array<[string, string, boolean]> = [
      ['maxLength', 'MAX_LENGTH', true],
      ['minLength', 'MIN_LENGTH', false],
      ['maximum', 'MAXIMUM', true],
      ['minimum', 'MINIMUM', false],
      ['exclusiveMaximum', 'EXCLUSIVE_MAXIMUM', true],
      ['exclusiveMinimum', 'EXCLUSIVE_MINIMUM', false],
      ['maxItems', 'MAX_ITEMS', true],
      ['minItems', 'MIN_ITEMS', false],
      ['maxProperties', 'MAX_PROPERTIES', true],
      ['minProperties', 'MIN_PROPERTIES', false],
    ];
    const found: string[] = [];
    for (const [keyword, errorType, largerIsLooser] of limits) {
      const r = reader[keyword];
      const w = writer[keyword];
      if (typeof r !== 'number') continue;
      if (typeof w !== 'number') {
        found.push(difference(`${errorType}_ADDED`, path, `The ${this.roles.reader} schema adds ${keyword} ${r} to '${path}'`));
      } else if (largerIsLooser ? r < w : r > w) {
        found.push(difference(`${errorType}_${largerIsLooser ? 'DECREASED' : 'INCREASED'}`, path, `${keyword} of '${path}' went from ${w} to ${r}`));
      }
    }
    if (typeof reader.pattern === 'string' && reader.pattern !== writer.pattern) {
      found.push(
        difference(
          writer.pattern === undefined ? 'PATTERN_ADDED' : 'PATTERN_CHANGED',
          path,
          `The pattern of '${path}' is ${reader.pattern} in the ${this.roles.reader} schema`,
        ),
      );
    }
    if (typeof reader.multipleOf === 'number' && reader.multipleOf !== writer.multipleOf) {
      const divides = typeof writer.multipleOf === 'number' && Number.isInteger(writer.multipleOf / reader.multipleOf);
      if (!divides)
        found.push(
          difference(
            writer.multipleOf === undefined ? 'MULTIPLE_OF_ADDED' : 'MULTIPLE_OF_CHANGED',
            path,
            `multipleOf of '${path}' is ${reader.multipleOf} in the ${this.roles.reader} schema`,
          ),
        );
    }
    if (reader.uniqueItems === true && writer.uniqueItems !== true) {
      found.push(difference('UNIQUE_ITEMS_ADDED', path, `The ${this.roles.reader} schema requires unique items in '${path}'`));
    }
    return found;
  }

  private compareObjects(reader: Schema, writer: Schema, path: string, depth: number): string[] {
    const readerProperties: Schema = isObject(reader.properties) ? reader.properties : {};
    const writerProperties: Schema = isObject(writer.properties) ? writer.properties : {};
    const readerRequired = new Set(Array.isArray(reader.required) ? (reader.required as string[]) : []);
    const writerRequired = new Set(Array.isArray(writer.required) ? (writer.required as string[]) : []);
    const writerOpen = writer.additionalProperties === undefined || writer.additionalProperties === true;
    const found: string[] = [];

    if (writerOpen && reader.additionalProperties !== undefined && reader.additionalProperties !== true) {
      found.push(
        difference(
          'ADDITIONAL_PROPERTIES_REMOVED',
          path,
          `The ${this.roles.reader} schema closes the content model of '${path}' that the ${this.roles.writer} schema left open`,
        ),
      );
    } else if (isObject(reader.additionalProperties) && isObject(writer.additionalProperties)) {
      found.push(...this.compare(reader.additionalProperties, writer.additionalProperties, `${path}/additionalProperties`, depth + 1));
    }

    for (const [name, readerProperty] of Object.entries(readerProperties)) {
      const propertyPath = `${path}/properties/${name}`;
      if (name in writerProperties) {
        found.push(...this.compare(readerProperty, writerProperties[name], propertyPath, depth + 1));
        if (readerRequired.has(name) && !writerRequired.has(name)) {
          found.push(
            difference(
              'REQUIRED_ATTRIBUTE_ADDED',
              propertyPath,
              `The property '${name}' is required in the ${this.roles.reader} schema but optional in the ${this.roles.writer} schema`,
            ),
          );
        }
      } else if (writerOpen) {
        if (!isEmpty(this.resolve(this.reader, readerProperty)) || readerRequired.has(name)) {
          found.push(
            difference(
              'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
              propertyPath,
              `The property '${name}' is new in the ${this.roles.reader} schema, but the ${this.roles.writer} schema's open content model may already hold '${name}' with any value`,
            ),
          );
        }
      } else if (readerRequired.has(name)) {
        found.push(
          difference(
            'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
            propertyPath,
            `The property '${name}' is new and required in the ${this.roles.reader} schema, but the ${this.roles.writer} schema never holds it`,
          ),
        );
      } else if (isObject(writer.additionalProperties)) {
        found.push(...this.compare(readerProperty, writer.additionalProperties, propertyPath, depth + 1));
      }
    }

    for (const [name, writerProperty] of Object.entries(writerProperties)) {
      if (name in readerProperties) continue;
      const propertyPath = `${path}/properties/${name}`;
      if (reader.additionalProperties === false) {
        found.push(
          difference(
            'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
            propertyPath,
            `The property '${name}' is gone from the ${this.roles.reader} schema, whose closed content model refuses it`,
          ),
        );
      } else if (isObject(reader.additionalProperties)) {
        const partial = this.compare(reader.additionalProperties, writerProperty, propertyPath, depth + 1);
        if (partial.length > 0) {
          found.push(
            difference(
              'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
              propertyPath,
              `The property '${name}' is gone from the ${this.roles.reader} schema and its additionalProperties do not accept it`,
            ),
          );
        }
      }
      if (readerRequired.has(name) && !writerRequired.has(name)) {
        found.push(
          difference(
            'REQUIRED_ATTRIBUTE_ADDED',
            propertyPath,
            `The property '${name}' is required in the ${this.roles.reader} schema but optional in the ${this.roles.writer} schema`,
          ),
        );
      }
    }

    for (const name of readerRequired) {
      if (name in readerProperties || name in writerProperties || writerRequired.has(name)) continue;
      found.push(
        difference(
          'REQUIRED_ATTRIBUTE_ADDED',
          `${path}/required`,
          `The property '${name}' is required in the ${this.roles.reader} schema but not in the ${this.roles.writer} schema`,
        ),
      );
    }
    return found;
  }

  private compareArrays(reader: Schema, writer: Schema, path: string, depth: number): string[] {
    if (reader.items === undefined) return [];
    if (Array.isArray(reader.items) || Array.isArray(writer.items)) {
      const readerItems = Array.isArray(reader.items) ? reader.items : [];
      const writerItems = Array.isArray(writer.items) ? writer.items : [];
      return readerItems.flatMap((item, index) => this.compare(item, writerItems[index] ?? true, `${path}/items/${index}`, depth + 1));
    }
    return this.compare(reader.items, writer.items ?? true, `${path}/items`, depth + 1);
  }
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema that accepts anything apart from annotations. */
function isEmpty(node: unknown): boolean {
  if (node === true) return true;
  if (!isObject(node)) return false;
  const annotations = new Set(['title', 'description', 'default', 'examples', '$id', '$schema', '$comment', 'definitions', '$defs']);
  return Object.keys(node).every((key) => annotations.has(key));
}

function typesOf(schema: Schema): Set<string> | undefined {
  if (typeof schema.type === 'string') return new Set([schema.type]);
  if (Array.isArray(schema.type)) return new Set(schema.type as string[]);
  return undefined;
}

function branches(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema.oneOf)) return schema.oneOf as unknown[];
  if (Array.isArray(schema.anyOf)) return schema.anyOf as unknown[];
  return undefined;
}

function pointerGet(document: unknown, pointer: string): unknown {
  let current = document;
  for (const token of pointer.split('/').filter(Boolean)) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(current) && !Array.isArray(current)) return true;
    current = (current as Record<string, unknown>)[key];
  }
  return current ?? true;
}
