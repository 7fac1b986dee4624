// Avro schema resolution (the spec's reader/writer rules) as a list of incompatibilities, each naming where it is.
import type avro from 'avsc';
import { ComparisonBudget, CompatiblePairs } from './bounds.js';

/** Which of the two schemas reads: for BACKWARD the new one, for FORWARD the old one. */
export interface Roles {
  reader: 'new' | 'old';
  writer: 'new' | 'old';
}

interface Named {
  name?: string;
  aliases?: string[];
}

/** The writer types each primitive reader type also accepts (Avro's promotions). */
const promotions: Record<string, string[]> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  string: ['bytes'],
  bytes: ['string'],
};

const difference = (errorType: string, description: string, additionalInfo?: string) =>
  `{errorType:'${errorType}', description:'${description}'${additionalInfo === undefined ? '' : `, additionalInfo:'${additionalInfo}'`}}`;

/**
 * Everything that stops `reader` from reading data written with `writer`; empty when it can.
 * Throws ComparisonTooLarge when the comparison goes past the budget's depth or steps.
 */
export function avroIncompatibilities(reader: avro.Type, writer: avro.Type, roles: Roles, budget = new ComparisonBudget()): string[] {
  return new AvroResolution(roles, budget).check(reader, writer, '', '');
}

class AvroResolution {
  /** Pairs of named types already being compared, so recursive records terminate. */
  private readonly inProgress = new Set<string>();
  /** Named types are shared: a record used by many fields is compared once per reader and writer pair. */
  private readonly compatible = new CompatiblePairs<avro.Type, avro.Type>();
  private depth = 0;

  constructor(
    private readonly roles: Roles,
    private readonly budget: ComparisonBudget,
  ) {}

  /** `field` is the dotted name of the field being compared (`customer.address.city`), empty at the top. */
  check(reader: avro.Type, writer: avro.Type, path: string, field: string): string[] {
    this.budget.spend(this.depth + 1);
    if (this.compatible.has(reader, writer)) return [];
    this.depth++;
    try {
      return this.compatible.remember(reader, writer, () => this.resolve(reader, writer, path, field));
    } finally {
      this.depth--;
    }
  }

  private resolve(reader: avro.Type, writer: avro.Type, path: string, field: string): string[] {
    const readerKind = kindOf(reader);
    const writerKind = kindOf(writer);
    if (writerKind === 'union') return this.checkWriterUnion(reader, writer as avro.types.UnwrappedUnionType, path, field);
    if (readerKind === 'union') return this.checkReaderUnion(reader as avro.types.UnwrappedUnionType, writer, path, field);
    if (readerKind !== writerKind) {
      if (promotions[readerKind]?.includes(writerKind)) return [];
      return [this.typeMismatch(readerKind, writerKind, path, field)];
    }
    switch (readerKind) {
      case 'record':
        return this.checkRecord(reader as avro.types.RecordType, writer as avro.types.RecordType, path, field);
      case 'enum':
        return this.checkEnum(reader as avro.types.EnumType, writer as avro.types.EnumType, path, field);
      case 'fixed':
        return this.checkFixed(reader as avro.types.FixedType, writer as avro.types.FixedType, path, field);
      case 'array':
        return this.check((reader as avro.types.ArrayType).itemsType, (writer as avro.types.ArrayType).itemsType, `${path}/items`, field);
      case 'map':
        return this.check(
          (reader as avro.types.MapType).valuesType as avro.Type,
          (writer as avro.types.MapType).valuesType as avro.Type,
          `${path}/values`,
          field,
        );
      default:
        return [];
    }
  }

  private typeMismatch(readerKind: string, writerKind: string, path: string, field: string): string {
    return difference(
      'TYPE_MISMATCH',
      `The type (path '${path || '/'}') of ${fieldLabel(field)} in the ${this.roles.reader} schema does not match with the ${this.roles.writer} schema: ${readerKind} cannot read ${writerKind}`,
      field || undefined,
    );
  }

  private checkWriterUnion(reader: avro.Type, writer: avro.types.UnwrappedUnionType, path: string, field: string): string[] {
    return writer.types.flatMap((branch, index) => {
      const branchPath = `${path}/${index}`;
      const readable =
        kindOf(reader) === 'union'
          ? this.readableByUnion(reader as avro.types.UnwrappedUnionType, branch, branchPath, field)
          : this.check(reader, branch, branchPath, field).length === 0;
      if (readable) return [];
      return [
        difference(
          'MISSING_UNION_BRANCH',
          `The ${this.roles.reader} schema is missing a type inside a union at path '${branchPath}' (${fieldLabel(field)}) in the ${this.roles.writer} schema: it cannot read ${describe(branch)}`,
          field || describe(branch),
        ),
      ];
    });
  }

  private readableByUnion(reader: avro.types.UnwrappedUnionType, writer: avro.Type, path: string, field: string): boolean {
    return reader.types.some((branch) => this.check(branch, writer, path, field).length === 0);
  }

  private checkReaderUnion(reader: avro.types.UnwrappedUnionType, writer: avro.Type, path: string, field: string): string[] {
    if (this.readableByUnion(reader, writer, path, field)) return [];
    return [
      difference(
        'MISSING_UNION_BRANCH',
        `The ${this.roles.reader} schema is missing a type inside a union at path '${path || '/'}' (${fieldLabel(field)}): no branch reads the ${this.roles.writer} schema's ${describe(writer)}`,
        field || describe(writer),
      ),
    ];
  }

  private nameMismatch(reader: avro.Type & Named, writer: avro.Type & Named, path: string, field: string): string[] {
    if (namesMatch(reader, writer)) return [];
    return [
      difference(
        'NAME_MISMATCH',
        `The name of the schema has changed (path '${path}/name', ${fieldLabel(field)}): ${this.roles.reader} '${reader.name ?? ''}', ${this.roles.writer} '${writer.name ?? ''}'; add an alias '${writer.name ?? ''}' to keep reading it`,
        reader.name,
      ),
    ];
  }

  private checkRecord(reader: avro.types.RecordType, writer: avro.types.RecordType, path: string, field: string): string[] {
    const pair = `${reader.name ?? ''}\u0000${writer.name ?? ''}`;
    if (this.inProgress.has(pair)) {
      this.compatible.assume();
      return [];
    }
    const mismatch = this.nameMismatch(reader, writer, path, field);
    if (mismatch.length > 0) return mismatch;
    this.inProgress.add(pair);
    try {
      const writerFields = new Map(writer.fields.map((w) => [w.name, w]));
      return reader.fields.flatMap((readerField, index) => {
        const name = field ? `${field}.${readerField.name}` : readerField.name;
        const written = writerFields.get(readerField.name) ?? writer.fields.find((w) => readerField.aliases.includes(w.name));
        if (written) return this.check(readerField.type, written.type, `${path}/fields/${index}/type`, name);
        if (readerField.defaultValue() !== undefined) return [];
        return [
          difference(
            'READER_FIELD_MISSING_DEFAULT_VALUE',
            `The field '${name}' at path '${path}/fields/${index}' in the ${this.roles.reader} schema has no default value and is missing in the ${this.roles.writer} schema`,
            name,
          ),
        ];
      });
    } finally {
      this.inProgress.delete(pair);
    }
  }

  private checkEnum(reader: avro.types.EnumType, writer: avro.types.EnumType, path: string, field: string): string[] {
    const mismatch = this.nameMismatch(reader, writer, path, field);
    if (mismatch.length > 0) return mismatch;
    const missing = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    const readerDefault = (reader as unknown as { default?: string }).default;
    if (missing.length === 0 || readerDefault !== undefined) return [];
    return [
      difference(
        'MISSING_ENUM_SYMBOLS',
        `The ${this.roles.reader} schema is missing enum symbols '[${missing.join(', ')}]' at path '${path}/symbols' (${fieldLabel(field)}) in the ${this.roles.writer} schema and has no enum default`,
        field || `[${missing.join(', ')}]`,
      ),
    ];
  }

  private checkFixed(reader: avro.types.FixedType, writer: avro.types.FixedType, path: string, field: string): string[] {
    const mismatch = this.nameMismatch(reader, writer, path, field);
    if (mismatch.length > 0) return mismatch;
    if (reader.size === writer.size) return [];
    return [
      difference(
        'FIXED_SIZE_MISMATCH',
        `The size of FIXED type ${fieldLabel(field)} at path '${path}/size' in the ${this.roles.reader} schema (${reader.size}) does not match with the ${this.roles.writer} schema (${writer.size})`,
        field || `expected: ${writer.size}, found: ${reader.size}`,
      ),
    ];
  }
}

/** The Avro kind of a type: unions of both avsc flavours are one kind, and logical types are read as what they annotate. */
function kindOf(type: avro.Type): string {
  return type.typeName.startsWith('union') ? 'union' : type.typeName;
}

function fieldLabel(field: string): string {
  return field ? `field '${field}'` : 'the top-level schema';
}

function describe(type: avro.Type): string {
  return type.name ?? kindOf(type);
}

/** Avro compares unqualified names, and a reader's aliases stand for its earlier names. */
function namesMatch(reader: Named, writer: Named): boolean {
  const readerName = reader.name;
  const writerName = writer.name;
  if (readerName === undefined || writerName === undefined) return true;
  const simple = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  if (simple(readerName) === simple(writerName)) return true;
  return (reader.aliases ?? []).some((alias) => alias === writerName || simple(alias) === simple(writerName));
}
