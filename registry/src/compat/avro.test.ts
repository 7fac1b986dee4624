// Avro schema resolution rules, table-driven: each rule with a compatible and an incompatible case, the reason naming the field.
import type { CompatibilityLevel } from '../model.js';
import { parseSchema } from '../schema/parse.js';
import { compatibilityReasons } from './check.js';

type Field = { name: string; type: unknown; default?: unknown; aliases?: string[] };
const record = (fields: Field[], extra: Record<string, unknown> = {}) => ({ type: 'record', name: 'Payment', namespace: 'bank', fields, ...extra });
const field = (name: string, type: unknown, more: Partial<Field> = {}): Field => ({ name, type, ...more });

const parse = (schema: unknown) => parseSchema('AVRO', JSON.stringify(schema), [], () => undefined);

/** The reasons `next` may not follow `history` (oldest first) under `level`. */
function reasons(level: CompatibilityLevel, history: unknown[], next: unknown): string[] {
  return compatibilityReasons(
    level,
    parse(next),
    history.map((schema, index) => ({ version: index + 1, schema: parse(schema) })),
  );
}

interface Rule {
  rule: string;
  level?: CompatibilityLevel;
  old: unknown;
  new: unknown;
  /** Absent when compatible; otherwise the error type and the field the reason must name. */
  breaks?: { errorType: string; names: string };
}

const enumOf = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: 'enum', name: 'Tier', symbols, ...extra });
const fixed = (size: number) => ({ type: 'fixed', name: 'Iban', size });
const customer = (fields: Field[]) => ({ type: 'record', name: 'Customer', fields });

const rules: Rule[] = [
  {
    rule: 'a field added with a default',
    old: record([field('id', 'string')]),
    new: record([field('id', 'string'), field('amount', 'double', { default: 0 })]),
  },
  {
    rule: 'a field added without a default',
    old: record([field('id', 'string')]),
    new: record([field('id', 'string'), field('amount', 'double')]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'amount' },
  },
  { rule: 'a field removed (BACKWARD)', old: record([field('id', 'string'), field('note', 'string')]), new: record([field('id', 'string')]) },
  {
    rule: 'a field without a default removed (FORWARD)',
    level: 'FORWARD',
    old: record([field('id', 'string'), field('note', 'string')]),
    new: record([field('id', 'string')]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'note' },
  },
  {
    rule: 'a field with a default removed (FORWARD)',
    level: 'FORWARD',
    old: record([field('id', 'string'), field('note', 'string', { default: '' })]),
    new: record([field('id', 'string')]),
  },
  { rule: 'int promoted to long', old: record([field('count', 'int')]), new: record([field('count', 'long')]) },
  {
    rule: 'long promoted to float and double',
    old: record([field('a', 'long'), field('b', 'long')]),
    new: record([field('a', 'float'), field('b', 'double')]),
  },
  { rule: 'float promoted to double', old: record([field('rate', 'float')]), new: record([field('rate', 'double')]) },
  {
    rule: 'long narrowed to int',
    old: record([field('count', 'long')]),
    new: record([field('count', 'int')]),
    breaks: { errorType: 'TYPE_MISMATCH', names: 'count' },
  },
  {
    rule: 'double narrowed to float',
    old: record([field('rate', 'double')]),
    new: record([field('rate', 'float')]),
    breaks: { errorType: 'TYPE_MISMATCH', names: 'rate' },
  },
  { rule: 'string read as bytes', old: record([field('raw', 'string')]), new: record([field('raw', 'bytes')]) },
  { rule: 'bytes read as string', old: record([field('raw', 'bytes')]), new: record([field('raw', 'string')]) },
  {
    rule: 'string changed to int',
    old: record([field('code', 'string')]),
    new: record([field('code', 'int')]),
    breaks: { errorType: 'TYPE_MISMATCH', names: 'code' },
  },
  { rule: 'a union branch added', old: record([field('note', ['null', 'string'])]), new: record([field('note', ['null', 'string', 'int'])]) },
  {
    rule: 'a union branch removed',
    old: record([field('note', ['null', 'string', 'int'])]),
    new: record([field('note', ['null', 'string'])]),
    breaks: { errorType: 'MISSING_UNION_BRANCH', names: 'note' },
  },
  { rule: 'a type widened into a union', old: record([field('note', 'string')]), new: record([field('note', ['null', 'string'])]) },
  {
    rule: 'a union narrowed to one of its types',
    old: record([field('note', ['null', 'string'])]),
    new: record([field('note', 'string')]),
    breaks: { errorType: 'MISSING_UNION_BRANCH', names: 'note' },
  },
  { rule: 'a union branch promoted', old: record([field('n', ['null', 'int'])]), new: record([field('n', ['null', 'long'])]) },
  {
    rule: 'an enum symbol added',
    old: record([field('tier', enumOf(['GOLD', 'SILVER']))]),
    new: record([field('tier', enumOf(['GOLD', 'SILVER', 'BRONZE']))]),
  },
  {
    rule: 'an enum symbol removed',
    old: record([field('tier', enumOf(['GOLD', 'SILVER', 'BRONZE']))]),
    new: record([field('tier', enumOf(['GOLD', 'SILVER']))]),
    breaks: { errorType: 'MISSING_ENUM_SYMBOLS', names: 'tier' },
  },
  {
    rule: 'an enum symbol removed where the reader has an enum default',
    old: record([field('tier', enumOf(['GOLD', 'SILVER', 'BRONZE']))]),
    new: record([field('tier', enumOf(['GOLD', 'SILVER'], { default: 'SILVER' }))]),
  },
  { rule: 'a field renamed with an alias', old: record([field('amount', 'double')]), new: record([field('value', 'double', { aliases: ['amount'] })]) },
  {
    rule: 'a field renamed without an alias',
    old: record([field('amount', 'double')]),
    new: record([field('value', 'double')]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'value' },
  },
  {
    rule: 'a record renamed with an alias',
    old: record([field('id', 'string')]),
    new: { ...record([field('id', 'string')]), name: 'Transfer', aliases: ['Payment'] },
  },
  {
    rule: 'a record renamed without an alias',
    old: record([field('id', 'string')]),
    new: { ...record([field('id', 'string')]), name: 'Transfer' },
    breaks: { errorType: 'NAME_MISMATCH', names: 'bank.Transfer' },
  },
  {
    rule: 'a nested record field added with a default',
    old: record([field('customer', customer([field('id', 'string')]))]),
    new: record([field('customer', customer([field('id', 'string'), field('tier', 'string', { default: 'none' })]))]),
  },
  {
    rule: 'a nested record field added without a default',
    old: record([field('customer', customer([field('id', 'string')]))]),
    new: record([field('customer', customer([field('id', 'string'), field('tier', 'string')]))]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'customer.tier' },
  },
  {
    rule: 'array items promoted',
    old: record([field('amounts', { type: 'array', items: 'int' })]),
    new: record([field('amounts', { type: 'array', items: 'long' })]),
  },
  {
    rule: 'array items narrowed',
    old: record([field('amounts', { type: 'array', items: 'long' })]),
    new: record([field('amounts', { type: 'array', items: 'int' })]),
    breaks: { errorType: 'TYPE_MISMATCH', names: 'amounts' },
  },
  {
    rule: 'map values promoted',
    old: record([field('limits', { type: 'map', values: 'float' })]),
    new: record([field('limits', { type: 'map', values: 'double' })]),
  },
  {
    rule: 'map values changed',
    old: record([field('limits', { type: 'map', values: 'string' })]),
    new: record([field('limits', { type: 'map', values: 'double' })]),
    breaks: { errorType: 'TYPE_MISMATCH', names: 'limits' },
  },
  { rule: 'a fixed of the same size', old: record([field('iban', fixed(34))]), new: record([field('iban', fixed(34))]) },
  {
    rule: 'a fixed resized',
    old: record([field('iban', fixed(34))]),
    new: record([field('iban', fixed(32))]),
    breaks: { errorType: 'FIXED_SIZE_MISMATCH', names: 'iban' },
  },
  { rule: 'anything at NONE', level: 'NONE', old: record([field('id', 'string')]), new: record([field('id', 'int')]) },
  {
    rule: 'an added field without a default at FULL',
    level: 'FULL',
    old: record([field('id', 'string')]),
    new: record([field('id', 'string'), field('amount', 'double')]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'amount' },
  },
  {
    rule: 'an added field with a default at FULL',
    level: 'FULL',
    old: record([field('id', 'string')]),
    new: record([field('id', 'string'), field('amount', 'double', { default: 0 })]),
  },
  {
    rule: 'a removed field without a default at FULL',
    level: 'FULL',
    old: record([field('id', 'string'), field('note', 'string')]),
    new: record([field('id', 'string')]),
    breaks: { errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', names: 'note' },
  },
];

describe('Avro compatibility rules', () => {
  it.each(rules)('$rule', ({ level = 'BACKWARD', old, new: next, breaks }) => {
    const found = reasons(level, [old], next);
    if (!breaks) {
      expect(found).toEqual([]);
      return;
    }
    expect(found[0]).toContain(`errorType:'${breaks.errorType}'`);
    expect(found[0]).toContain(`'${breaks.names}'`);
    expect(found).toContain('{oldSchemaVersion: 1}');
    expect(found).toContain(`{compatibility: '${level}'}`);
  });

  it('reads recursive records without looping', () => {
    const list = (extra: Field[]) => ({
      type: 'record',
      name: 'Node',
      fields: [field('value', 'int'), field('next', ['null', 'Node'], { default: null }), ...extra],
    });
    expect(reasons('FULL', [list([])], list([field('label', 'string', { default: '' })]))).toEqual([]);
  });
});

describe('compatibility levels over several versions', () => {
  const v1 = record([field('id', 'string')]);
  const v2 = record([field('id', 'string'), field('amount', 'double', { default: 0 })]);
  const v3 = record([field('id', 'string'), field('amount', 'double')]);

  it('BACKWARD compares with the latest version only', () => {
    expect(reasons('BACKWARD', [v1, v2], v3)).toEqual([]);
  });

  it('BACKWARD_TRANSITIVE compares with every version and names the one that fails', () => {
    const found = reasons('BACKWARD_TRANSITIVE', [v1, v2], v3);
    expect(found[0]).toContain("'amount'");
    expect(found).toContain('{oldSchemaVersion: 1}');
    expect(found).not.toContain('{oldSchemaVersion: 2}');
  });

  it('FORWARD_TRANSITIVE lets every old version read the new data', () => {
    const withNote = record([field('id', 'string'), field('note', 'string')]);
    expect(reasons('FORWARD', [withNote, v1], v2)).toEqual([]);
    expect(reasons('FORWARD_TRANSITIVE', [withNote, v1], v2)[0]).toContain("'note'");
  });

  it('FULL_TRANSITIVE checks both directions against every version', () => {
    expect(reasons('FULL_TRANSITIVE', [v1, v2], record([field('id', 'string'), field('amount', 'double', { default: 1 })]))).toEqual([]);
    expect(reasons('FULL_TRANSITIVE', [v1, v2], v3)[0]).toContain("'amount'");
  });

  it('refuses a change of schema type', () => {
    const json = parseSchema('JSON', '{"type":"object"}', [], () => undefined);
    expect(compatibilityReasons('BACKWARD', json, [{ version: 1, schema: parse(v1) }])[0]).toContain('SCHEMA_TYPE_CHANGED');
  });
});
