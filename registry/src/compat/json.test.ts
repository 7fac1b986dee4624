// JSON Schema compatibility (Confluent's open and closed content models), table-driven: each rule compatible and not, the reason naming the property.
import type { CompatibilityLevel } from '../model.js';
import { parseSchema } from '../schema/parse.js';
import { compatibilityReasons } from './check.js';

const parse = (schema: unknown) => parseSchema('JSON', JSON.stringify(schema), [], () => undefined);
const reasons = (level: CompatibilityLevel, old: unknown, next: unknown) => compatibilityReasons(level, parse(next), [{ version: 1, schema: parse(old) }]);

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });
const closed = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => object(properties, { additionalProperties: false, ...extra });
const str = { type: 'string' };
const int = { type: 'integer' };

interface Rule {
  rule: string;
  level?: CompatibilityLevel;
  old: unknown;
  new: unknown;
  breaks?: { errorType: string; names: string };
}

const rules: Rule[] = [
  { rule: 'a property removed from an open content model', old: object({ id: str, note: str }), new: object({ id: str }) },
  {
    rule: 'a property added to an open content model',
    old: object({ id: str }),
    new: object({ id: str, amount: { type: 'number' } }),
    breaks: { errorType: 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', names: 'amount' },
  },
  { rule: 'an optional property added to a closed content model', old: closed({ id: str }), new: closed({ id: str, amount: { type: 'number' } }) },
  {
    rule: 'a required property added to a closed content model',
    old: closed({ id: str }),
    new: closed({ id: str, amount: { type: 'number' } }, { required: ['amount'] }),
    breaks: { errorType: 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', names: 'amount' },
  },
  {
    rule: 'a property removed from a closed content model',
    old: closed({ id: str, note: str }),
    new: closed({ id: str }),
    breaks: { errorType: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', names: 'note' },
  },
  {
    rule: 'a property removed into a partially open model that accepts it',
    old: closed({ id: str, note: str }),
    new: object({ id: str }, { additionalProperties: str }),
  },
  {
    rule: 'a property removed into a partially open model that refuses it',
    old: closed({ id: str, count: int }),
    new: object({ id: str }, { additionalProperties: str }),
    breaks: { errorType: 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', names: 'count' },
  },
  { rule: 'a content model opened', old: closed({ id: str }), new: object({ id: str }) },
  { rule: 'a content model closed', old: object({ id: str }), new: closed({ id: str }), breaks: { errorType: 'ADDITIONAL_PROPERTIES_REMOVED', names: '#' } },
  { rule: 'a required property made optional', old: object({ id: str }, { required: ['id'] }), new: object({ id: str }) },
  {
    rule: 'an optional property made required',
    old: object({ id: str }),
    new: object({ id: str }, { required: ['id'] }),
    breaks: { errorType: 'REQUIRED_ATTRIBUTE_ADDED', names: 'id' },
  },
  { rule: 'a type widened with null', old: object({ note: str }), new: object({ note: { type: ['string', 'null'] } }) },
  {
    rule: 'a type narrowed',
    old: object({ note: { type: ['string', 'null'] } }),
    new: object({ note: str }),
    breaks: { errorType: 'TYPE_NARROWED', names: 'note' },
  },
  { rule: 'integer widened to number', old: object({ count: int }), new: object({ count: { type: 'number' } }) },
  {
    rule: 'number narrowed to integer',
    old: object({ count: { type: 'number' } }),
    new: object({ count: int }),
    breaks: { errorType: 'TYPE_CHANGED', names: 'count' },
  },
  { rule: 'a type changed', old: object({ code: str }), new: object({ code: int }), breaks: { errorType: 'TYPE_CHANGED', names: 'code' } },
  { rule: 'an enum extended', old: object({ tier: { enum: ['GOLD', 'SILVER'] } }), new: object({ tier: { enum: ['GOLD', 'SILVER', 'BRONZE'] } }) },
  {
    rule: 'an enum narrowed',
    old: object({ tier: { enum: ['GOLD', 'SILVER', 'BRONZE'] } }),
    new: object({ tier: { enum: ['GOLD', 'SILVER'] } }),
    breaks: { errorType: 'ENUM_ARRAY_NARROWED', names: 'tier' },
  },
  { rule: 'maxLength raised', old: object({ iban: { type: 'string', maxLength: 32 } }), new: object({ iban: { type: 'string', maxLength: 34 } }) },
  {
    rule: 'maxLength lowered',
    old: object({ iban: { type: 'string', maxLength: 34 } }),
    new: object({ iban: { type: 'string', maxLength: 32 } }),
    breaks: { errorType: 'MAX_LENGTH_DECREASED', names: 'iban' },
  },
  { rule: 'a minimum lowered', old: object({ amount: { type: 'number', minimum: 1 } }), new: object({ amount: { type: 'number', minimum: 0 } }) },
  {
    rule: 'a minimum added',
    old: object({ amount: { type: 'number' } }),
    new: object({ amount: { type: 'number', minimum: 0 } }),
    breaks: { errorType: 'MINIMUM_ADDED', names: 'amount' },
  },
  {
    rule: 'a nested property narrowed',
    old: object({ customer: object({ tier: { type: ['string', 'null'] } }) }),
    new: object({ customer: object({ tier: str }) }),
    breaks: { errorType: 'TYPE_NARROWED', names: 'customer/properties/tier' },
  },
  {
    rule: 'array items widened',
    old: object({ tags: { type: 'array', items: str } }),
    new: object({ tags: { type: 'array', items: { type: ['string', 'null'] } } }),
  },
  {
    rule: 'array items changed',
    old: object({ tags: { type: 'array', items: str } }),
    new: object({ tags: { type: 'array', items: int } }),
    breaks: { errorType: 'TYPE_CHANGED', names: 'tags/items' },
  },
  { rule: 'a oneOf alternative added', old: object({ id: { oneOf: [str, int] } }), new: object({ id: { oneOf: [str, int, { type: 'null' }] } }) },
  {
    rule: 'a oneOf alternative removed',
    old: object({ id: { oneOf: [str, int] } }),
    new: object({ id: { oneOf: [str] } }),
    breaks: { errorType: 'COMBINED_TYPE_SUBSCHEMAS_CHANGED', names: 'id' },
  },
  {
    rule: 'a change behind a $ref',
    old: { ...object({ home: { $ref: '#/definitions/Address' } }), definitions: { Address: object({ city: str }) } },
    new: { ...object({ home: { $ref: '#/definitions/Address' } }), definitions: { Address: object({ city: int }) } },
    breaks: { errorType: 'TYPE_CHANGED', names: 'home/properties/city' },
  },
  { rule: 'a property added to an open model, read FORWARD', level: 'FORWARD', old: object({ id: str }), new: object({ id: str, amount: { type: 'number' } }) },
  {
    rule: 'a property removed from an open model, read FORWARD',
    level: 'FORWARD',
    old: object({ id: str, note: str }),
    new: object({ id: str }),
    breaks: { errorType: 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', names: 'note' },
  },
  {
    rule: 'an optional property added to a closed model at FULL',
    level: 'FULL',
    old: closed({ id: str }),
    new: closed({ id: str, amount: { type: 'number' } }),
    breaks: { errorType: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', names: 'amount' },
  },
  {
    rule: 'a description changed at FULL',
    level: 'FULL',
    old: object({ id: { ...str, description: 'the id' } }),
    new: object({ id: { ...str, description: 'the payment id' } }),
  },
];

describe('JSON Schema compatibility rules', () => {
  it.each(rules)('$rule', ({ level = 'BACKWARD', old, new: next, breaks }) => {
    const found = reasons(level, old, next);
    if (!breaks) {
      expect(found).toEqual([]);
      return;
    }
    expect(found[0]).toContain(`errorType:'${breaks.errorType}'`);
    expect(found[0]).toContain(breaks.names);
    expect(found).toContain(`{compatibility: '${level}'}`);
  });
});
