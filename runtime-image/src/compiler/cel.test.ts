import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Environment } from '@marcbachmann/cel-js';
import { crdManifests } from '@sluice/crds';
import { parse } from 'yaml';
import { Task } from '../dataflow/task.js';
import { MemoryKeyedState } from '../state/keyed.js';
import { CelCompileError, CelEvaluationError, compileCel } from './cel.js';
import { CEL_LIMITS, estimateCost } from './cel-cost.js';
import { compileJob, compileJobOrThrow } from './compile.js';
import { formatProblem } from './problems.js';

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
    [
      'items.map(i, {"sku": i.sku, "customer": customer_id})',
      [
        { sku: 'a', customer: 'C1' },
        { sku: 'b', customer: 'C1' },
      ],
    ],
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

describe('CEL limits', () => {
  const invalid = join(dirname(fileURLToPath(import.meta.url)), '../../../test/e2e/invalid');
  const reproduction = (file: string): unknown => parse(readFileSync(join(invalid, file), 'utf8'));
  const problemsOf = (manifest: unknown): string[] => {
    const result = compileJob(manifest);
    return result.ok ? [] : result.problems.map(formatProblem);
  };
  const filterJob = (filter: string): unknown => ({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'limits' },
    spec: { sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }], pipeline: [{ filter }], sinks: [{ name: 'out', stdout: {} }] },
  });
  const numbers = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

  it.each([
    [
      'cel-filter-nested-all.yaml',
      'spec.pipeline[0].filter: is 2,869 characters long, over the limit of 2,048; shorten it or split the work over several steps',
    ],
    [
      'cel-map-nested-map.yaml',
      'spec.pipeline[0].map.fields.combinations: is 2,893 characters long, over the limit of 2,048; shorten it or split the work over several steps',
    ],
  ])('refuses the reproduction in %s by its length, as the API server does', (file, problem) => {
    const problems = problemsOf(reproduction(file));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('allows the length the StreamJob CRD allows its expression fields', () => {
    const streamJob = crdManifests().find((crd) => crd.spec.names.kind === 'StreamJob')!;
    const step = streamJob.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!.pipeline!.items as {
      properties: Record<string, { maxLength?: number }>;
    };
    expect(step.properties.filter!.maxLength).toBe(CEL_LIMITS.maxLength);
  });

  it.each([
    // The reproductions' shape over a list in the record, short enough to pass the length limit.
    ['self.items.all(a, self.items.all(b, self.items.all(c, self.items.all(d, a + b + c + d > 0))))', '1,004,040,403'],
    ['self.items.map(a, self.items.map(b, self.items.map(c, {"a": a, "b": b, "c": c})))', '8,040,403'],
    // A list the expression builds has a known length, followed through cel.bind: here 2, 8, then 32 elements.
    ['cel.bind(x, [1, 2], cel.bind(y, x + x + x + x, cel.bind(z, y + y + y + y, z.all(a, items.all(b, items.all(c, a != c))))))', '1,289,808'],
  ])('refuses %s by its estimated cost, naming the estimate and the limit', (filter, estimate) => {
    expect(problemsOf(filterJob(filter))).toEqual([
      `spec.pipeline[0].filter: may cost ${estimate} units per record, over the limit of 1,000,000 (every comprehension — all, exists, exists_one, map, filter — ` +
        "multiplies the cost of what it contains by its list's length, assumed 100 for a list in the record); nest fewer comprehensions or iterate shorter lists",
    ]);
  });

  it.each([
    // One per operator; a comprehension adds its list's length (100 assumed for a record's) times its body plus one.
    ['amount > 100.0', 3],
    ['customer_id + "-" + country', 5],
    ['country in ["NZ", "AU"]', 1 + 1 + 3 + 2],
    ['items.exists(i, i.sku == "b")', 1 + 1 + 100 * (4 + 1)],
    ['items.all(a, items.all(b, a != b))', 1 + 1 + 100 * (1 + 1 + 100 * (3 + 1) + 1)],
    ['[1, 2, 3].map(i, i * 2)', 1 + 4 + 3 * (3 + 1)],
  ])('estimates %s at %d units', (source, units) => {
    const environment = new Environment({ unlistedVariablesAreDyn: true });
    expect(estimateCost(environment.parse(source).ast)).toBe(units);
  });

  it('refuses an expression nested deeper than 32', () => {
    expect(() => compileCel(`${'('.repeat(33)}amount${')'.repeat(33)} > 1.0`)).toThrow(
      'is not valid CEL: nests parentheses, calls, lists, maps or field selections more than 32 deep; flatten it',
    );
    expect(compileCel(`${'('.repeat(30)}amount${')'.repeat(30)} > 1.0`).evaluate(txn)).toBe(true);
  });

  const overBudget = 'the record needs more than 1,000,000 units of CEL work';

  it('evaluates a record within the budget, and fails one whose lists make the same expression exceed it', () => {
    const pairs = compileCel('items.all(a, items.all(b, a != b || a == b))');
    expect(pairs.evaluate({ items: numbers(100) })).toBe(true);
    expect(() => pairs.evaluate({ items: numbers(2_000) })).toThrow(CelEvaluationError);
    expect(() => pairs.evaluate({ items: numbers(2_000) })).toThrow(`"items.all(a, items.all(b, a != b || a == b))" failed: ${overBudget}`);
    expect(pairs.evaluate({ items: numbers(100) })).toBe(true);
  });

  it('fails a record that exceeds the budget even where || or a quantifier would absorb the error', () => {
    const absorbed = compileCel('items.all(a, items.all(b, a >= 0)) || true');
    expect(() => absorbed.evaluate({ items: numbers(2_000) })).toThrow(overBudget);
    // A later failure of the same record does not hide that it went over budget.
    const thenMissing = compileCel('(items.all(a, items.all(b, a >= 0)) || true) && missing > 1');
    expect(() => thenMissing.evaluate({ items: numbers(2_000) })).toThrow(overBudget);
  });

  it.each([
    ['a nested map over long lists', 'items.map(a, items.map(b, self))', { items: numbers(2_000) }],
    ['list concatenations doubling through cel.bind', 'cel.bind(a, items + items, cel.bind(b, a + a, cel.bind(c, b + b, c + c)))', { items: numbers(100_000) }],
    ['a result repeating a long list', '[items, items, items]', { items: numbers(400_000) }],
  ])('fails %s before it exhausts the heap', (_what, source, record) => {
    expect(() => compileCel(source).evaluate(record)).toThrow(overBudget);
  });

  it('sends a record over the budget to the dead letters and goes on with the next', () => {
    const job = compileJobOrThrow(filterJob('items.exists(a, items.exists(b, a + b == -1))'));
    const results: unknown[] = [];
    const reasons: string[] = [];
    const task = new Task(job.dataflow, {
      state: () => new MemoryKeyedState(),
      outputs: { result: (record) => results.push(record.value), late: () => undefined, deadLetter: ({ reason }) => reasons.push(reason) },
    });
    task.processRecord({ id: 'long', items: numbers(5_000) }, 0);
    task.processRecord({ id: 'short', items: [-1, 0] }, 0);
    expect(reasons).toEqual([
      `filter-0: "items.exists(a, items.exists(b, a + b == -1))" failed: ${overBudget} (its lists are longer, or its values larger, than one record may make this expression handle); nest fewer comprehensions (all, exists, exists_one, map, filter) or shorten the lists upstream`,
    ]);
    expect(results).toEqual([{ id: 'short', items: [-1, 0] }]);
  });
});
