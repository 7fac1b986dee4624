// Key templates: substitution, nested fields, escapes, the reasons for a missing key, and syntax errors that say where.
import { compileCel } from '../compiler/cel.js';
import { KeyTemplateError, parseKeyTemplate } from './key-template.js';

test('substitutes fields into the literal text', () => {
  const t = parseKeyTemplate('fraud_features:{customer_id}:txn_count_5m');
  expect(t.fields).toEqual(['customer_id']);
  expect(t.render({ customer_id: 'C123', txn_count: 3 })).toEqual({ ok: true, key: 'fraud_features:C123:txn_count_5m' });
});

test.each([
  ['{n}', { n: 42 }, '42'],
  ['{n}', { n: 1.5 }, '1.5'],
  ['{b}', { b: false }, 'false'],
  ['{s}', { s: '' }, ''],
  ['{ customer.id }/{window_start}', { customer: { id: 'C1' }, window_start: '2025-12-05T10:20:00.000Z' }, 'C1/2025-12-05T10:20:00.000Z'],
  ['{{literal}}:{a}', { a: 'x' }, '{literal}:x'],
  ['plain', {}, 'plain'],
])('%s with %j renders %s', (template, value, key) => {
  expect(parseKeyTemplate(template).render(value)).toEqual({ ok: true, key });
});

test.each([
  [{}, 'it is missing'],
  [{ customer_id: null }, 'it is null'],
  [{ customer_id: { a: 1 } }, 'it is an object'],
  [{ customer_id: [1] }, 'it is an array'],
  [{ customer_id: Number.NaN }, 'it is NaN'],
])('a result %j has no key, and the reason names the field', (value, why) => {
  const result = parseKeyTemplate('f:{customer_id}:x').render(value);
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.reason).toContain('"customer_id"');
    expect(result.reason).toContain(why);
  }
});

test('a nested path through a non-object is missing, and inherited properties are not fields', () => {
  expect(parseKeyTemplate('{a.b}').render({ a: 'text' }).ok).toBe(false);
  expect(parseKeyTemplate('{constructor}').render({}).ok).toBe(false);
});

test.each([
  ['f:{customer_id', 'is not closed'],
  ['f:customer_id}', 'has no opening'],
  ['f:{}', 'is not a field name'],
  ['f:{a b}', 'is not a field name'],
  ['f:{1x}', 'is not a field name'],
])('%s is refused: %s', (template, message) => {
  expect(() => parseKeyTemplate(template)).toThrow(KeyTemplateError);
  expect(() => parseKeyTemplate(template)).toThrow(message);
});

test('with an expression compiler, other placeholders are expressions (here the compiler’s CEL)', () => {
  const t = parseKeyTemplate('daily:{customer_id}:{window_start.substring(0, 10)}:{txn_count > 5}', { expression: compileCel });
  expect(t.fields).toEqual(['customer_id', 'window_start.substring(0, 10)', 'txn_count > 5']);
  expect(t.render({ customer_id: 'C1', window_start: '2025-12-05T10:20:00.000Z', txn_count: 7 })).toEqual({ ok: true, key: 'daily:C1:2025-12-05:true' });
  const failed = t.render({ customer_id: 'C1', txn_count: 7 });
  expect(failed.ok).toBe(false);
  if (!failed.ok) expect(failed.reason).toContain('{window_start.substring(0, 10)} failed:');
  const notScalar = parseKeyTemplate('{[1, 2]}', { expression: compileCel }).render({});
  expect(notScalar).toEqual({
    ok: false,
    reason: 'key template "{[1, 2]}": {[1, 2]} gives no usable value (it is an array); make it a string, number or boolean',
  });
  expect(() => parseKeyTemplate('k:{1 +}', { expression: compileCel })).toThrow('key template "k:{1 +}": {1 +} at position 2 is not valid CEL');
  expect(() => parseKeyTemplate('k:{1 + 1}')).toThrow('is not a field name');
});
