import { CelCompileError, CelEvaluationError, compileCel } from './cel.js';

const txn = { customer_id: 'C1', amount: 120.5, country: 'NZ', items: [{ sku: 'a' }, { sku: 'b' }], card: { bin: '4111' } };

describe('CEL expressions over records', () => {
  it.each([
    ['amount > 100.0', true],
    ['amount > 100', true],
    ['amount * 2', 241],
    ['2 * amount', 241],
    ['amount + 1', 121.5],
    ['customer_id + "-" + country', 'C1-NZ'],
    ['self.amount', 120.5],
    ['has(self.missing)', false],
    ['has(self.card) && card.bin.startsWith("41")', true],
    ['country == "NZ" ? 1 : 0', 1],
    ['size(items)', 2],
    ['items.map(i, {"sku": i.sku, "customer": customer_id})', [{ sku: 'a', customer: 'C1' }, { sku: 'b', customer: 'C1' }]],
    ['timestamp("2025-12-05T10:00:00Z")', '2025-12-05T10:00:00.000Z'],
    ['duration("30m")', '1800s'],
    ['(timestamp("2025-12-05T10:30:00Z") - timestamp("2025-12-05T10:00:00Z")).getSeconds()', 1800],
    ['{"total": amount, "big": amount > 100.0}', { total: 120.5, big: true }],
  ])('%s gives %j, as plain JSON', (source, expected) => {
    expect(compileCel(source).evaluate(txn)).toEqual(expected);
  });

  it('knows a condition is bool before it sees a record', () => {
    expect(compileCel('amount > 100.0').resultType).toBe('bool');
    expect(compileCel('"a" + "b"').resultType).toBe('string');
  });

  it.each([
    ['', 'is empty; write a CEL expression such as amount > 100.0'],
    ['amount +', 'is not valid CEL: Unexpected token: EOF (column 9)'],
    ['nosuch(amount)', "does not type-check: found no matching overload for 'nosuch(dyn)' (column 1)"],
    ['1 + "a"', 'does not type-check: no such overload: int + string (column 1)'],
  ])('refuses %j at compile time: %s', (source, message) => {
    expect(() => compileCel(source)).toThrow(CelCompileError);
    expect(() => compileCel(source)).toThrow(message);
  });

  it.each([
    ['missing > 1', '"missing > 1" failed: the record has no field missing; guard it with has(self.missing)'],
    ['country > 1', '"country > 1" failed: no such overload: dyn<string> > int'],
    ['card.cvv', '"card.cvv" failed: No such key: cvv'],
  ])('says why %j failed on one record', (source, message) => {
    const expression = compileCel(source);
    expect(() => expression.evaluate(txn)).toThrow(CelEvaluationError);
    expect(() => expression.evaluate(txn)).toThrow(message);
  });
});
