// The data-quality rules of a source: each check kind, absent and nested fields, every broken rule named, and the manifest errors.
import { compileJob, compileJobOrThrow } from '../compiler/compile.js';
import { formatProblem, Problems } from '../compiler/problems.js';
import { compileRules, type SourceRules } from './rules.js';

type Spec = Record<string, unknown>;

function rules(list: unknown[]): SourceRules {
  const problems = new Problems();
  const compiled = compileRules(problems, 'spec.sources[0].rules', list, 'transactions');
  expect(problems.list.map(formatProblem)).toEqual([]);
  return compiled!;
}

function problemsOf(list: unknown): string[] {
  const problems = new Problems();
  compileRules(problems, 'spec.sources[0].rules', list, 'transactions');
  return problems.list.map(formatProblem);
}

/** The names of the rules the record breaks; [] when it keeps them all. */
const broken = (compiled: SourceRules, record: Spec): string[] => compiled.check(record)?.rules ?? [];

describe('data-quality rules', () => {
  it('requires a field: missing or null breaks the rule, any value (0, "", false) keeps it', () => {
    const compiled = rules([{ name: 'has-customer', field: 'customer_id', required: true }]);
    expect(broken(compiled, {})).toEqual(['has-customer']);
    expect(broken(compiled, { customer_id: null })).toEqual(['has-customer']);
    for (const value of [0, '', false, 'c1']) expect(broken(compiled, { customer_id: value })).toEqual([]);
    expect(compiled.check({})?.reason).toMatch(/rule has-customer: customer_id is missing/);
  });

  it('checks a range with min, max or both, and a value that is not a number breaks it', () => {
    const compiled = rules([
      { name: 'amount-positive', field: 'amount', min: 0 },
      { name: 'amount-cap', field: 'amount', max: 10_000 },
      { name: 'score-unit', field: 'score', min: 0, max: 1 },
    ]);
    expect(broken(compiled, { amount: 0, score: 1 })).toEqual([]);
    expect(broken(compiled, { amount: -0.01, score: 0.5 })).toEqual(['amount-positive']);
    expect(broken(compiled, { amount: 10_000.5, score: 1.5 })).toEqual(['amount-cap', 'score-unit']);
    expect(broken(compiled, { amount: '12', score: 0 })).toEqual(['amount-positive', 'amount-cap']);
    expect(compiled.check({ amount: -3 })?.reason).toContain('rule amount-positive: amount is -3, below the minimum 0');
    expect(compiled.check({ amount: '12' })?.reason).toContain('amount is "12", not a number');
  });

  it('matches a regex anywhere in a string unless anchored, and a value that is not a string breaks it', () => {
    const compiled = rules([
      { name: 'currency-code', field: 'currency', regex: '^[A-Z]{3}$' },
      { name: 'merchant-prefix', field: 'merchant_id', regex: 'm-' },
    ]);
    expect(broken(compiled, { currency: 'EUR', merchant_id: 'shop m-17' })).toEqual([]);
    expect(broken(compiled, { currency: 'EURO', merchant_id: 'm-1' })).toEqual(['currency-code']);
    expect(broken(compiled, { currency: 978, merchant_id: 'x' })).toEqual(['currency-code', 'merchant-prefix']);
    expect(compiled.check({ currency: 'eur' })?.reason).toContain('currency is "eur", which does not match "^[A-Z]{3}$"');
  });

  it('takes only the allowed values of an enum, by type as well as value', () => {
    const compiled = rules([
      { name: 'known-channel', field: 'channel', enum: ['web', 'pos', 'atm'] },
      { name: 'known-level', field: 'level', enum: [1, 2, 3] },
    ]);
    expect(broken(compiled, { channel: 'pos', level: 2 })).toEqual([]);
    expect(broken(compiled, { channel: 'POS', level: '2' })).toEqual(['known-channel', 'known-level']);
    expect(compiled.check({ channel: 'fax' })?.reason).toContain('channel is "fax", not one of "web", "pos", "atm"');
  });

  it('runs a CEL condition over the record: false, an error or a value that is not bool breaks it', () => {
    const compiled = rules([{ name: 'within-limit', cel: 'amount <= credit_limit' }]);
    expect(broken(compiled, { amount: 5, credit_limit: 10 })).toEqual([]);
    expect(compiled.check({ amount: 50, credit_limit: 10 })?.reason).toContain('rule within-limit: "amount <= credit_limit" is false');
    // A field the expression reads is missing: CEL's own error is the reason.
    expect(compiled.check({ amount: 50 })?.reason).toMatch(/rule within-limit: .*credit_limit/);
    const notBool = rules([{ name: 'dyn', cel: 'self.flag' }]);
    expect(notBool.check({ flag: 'yes' })?.reason).toContain('returned "yes", not true or false');
  });

  it('reads nested field paths, and an absent field keeps every rule but required', () => {
    const compiled = rules([
      { name: 'card-country', field: 'card.country', regex: '^[A-Z]{2}$' },
      { name: 'card-limit', field: 'card.limit', min: 0 },
    ]);
    expect(broken(compiled, { card: { country: 'DE', limit: 10 } })).toEqual([]);
    expect(broken(compiled, { card: { country: 'Germany', limit: -1 } })).toEqual(['card-country', 'card-limit']);
    expect(broken(compiled, {})).toEqual([]);
    expect(broken(compiled, { card: 'not an object' })).toEqual([]);
    expect(broken(compiled, { card: { country: null } })).toEqual([]);
    // Only the record's own fields count: an inherited property is no value.
    expect(broken(rules([{ name: 'ctor', field: 'constructor', required: true }]), {})).toEqual(['ctor']);
    expect(compiled.check({ card: { country: 'Germany' } })?.reason).toContain('card.country is "Germany"');
  });

  it('names every rule a record breaks in one reason, in the manifest order, with what to do', () => {
    const compiled = rules([
      { name: 'has-customer', field: 'customer_id', required: true },
      { name: 'amount-positive', field: 'amount', min: 0 },
    ]);
    expect(compiled.check({ amount: -1 })).toEqual({
      rules: ['has-customer', 'amount-positive'],
      reason:
        'source transactions: the record breaks rule has-customer: customer_id is missing; rule amount-positive: amount is -1, below the minimum 0; ' +
        "fix the records' producer, or change spec.sources[name=transactions].rules if such records are valid",
    });
  });

  it('quotes an offending value cut short, never whole', () => {
    const reason = rules([{ name: 'short-note', field: 'note', regex: '^.{0,10}$' }]).check({ note: 'x'.repeat(10_000) })!.reason;
    expect(reason).toContain(`note is "${'x'.repeat(63)}…`);
    expect(reason.length).toBeLessThan(400);
  });

  it('refuses bad rules, naming each field at fault', () => {
    expect(
      problemsOf([
        { name: 'ok', field: 'amount', min: 0 },
        { name: 'bad-regex', field: 'currency', regex: '[A-Z' },
        { name: 'two-checks', field: 'amount', min: 0, regex: 'x' },
        { name: 'no-check', field: 'amount' },
        { name: 'Bad Name', field: 'amount', required: true },
        { name: 'no-field', min: 1 },
        { name: 'cel-with-field', field: 'amount', cel: 'amount > 0' },
        { name: 'cel-not-bool', cel: 'string(amount)' },
        { name: 'cel-bad', cel: 'amount >' },
        { name: 'inverted', field: 'amount', min: 5, max: 1 },
        { name: 'empty-enum', field: 'channel', enum: [] },
        { name: 'ok', field: 'amount', max: 9 },
        { name: 'typo', field: 'amount', minimum: 0 },
        { name: 'required-false', field: 'amount', required: false },
      ]),
    ).toEqual([
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[1\]\.regex: "\[A-Z" is not a valid regular expression: .+; fix it/),
      'spec.sources[0].rules[2]: set one check per rule, not range and regex; split it into 2 rules, each with its own name',
      'spec.sources[0].rules[3]: set one check: required, min and/or max, regex, enum or cel',
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[4\]\.name: "Bad Name" is not a rule name/),
      'spec.sources[0].rules[5].field: is required: name the record field the range rule checks, for example amount or card.country',
      'spec.sources[0].rules[6].field: a cel rule reads the whole record (amount, self.amount, has(self.card.id)); remove field',
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[7\]\.cel: returns string, not bool/),
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[8\]\.cel: is not valid CEL/),
      'spec.sources[0].rules[9].max: 1 is below min 5, so no value could keep the rule; swap them',
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[10\]\.enum: \[\] is not a list of allowed values/),
      'spec.sources[0].rules[11].name: "ok" names an earlier rule too; give each rule its own name',
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[12\]\.minimum: is not a rule setting/),
      'spec.sources[0].rules[12]: set one check: required, min and/or max, regex, enum or cel',
      'spec.sources[0].rules[13].required: false checks nothing; write required: true, or remove the rule',
    ]);
    expect(problemsOf({ name: 'x' })).toEqual([expect.stringMatching(/^spec\.sources\[0\]\.rules: must be a list of rules/)]);
    expect(problemsOf(Array.from({ length: 65 }, (_, i) => ({ name: `r${i}`, field: 'a', required: true })))).toEqual([
      expect.stringMatching(/^spec\.sources\[0\]\.rules: has 65 rules, over the limit of 64/),
    ]);
  });
});

describe('rules in a compiled job', () => {
  const manifest = (sources: Spec[]) => ({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud' },
    spec: {
      sources,
      pipeline: [{ filter: 'amount > 100.0' }],
      sinks: [{ name: 'out', stdout: {} }],
    },
  });

  it('compiles the first source’s rules onto the job, named after the source', () => {
    const job = compileJobOrThrow(
      manifest([{ name: 'transactions', file: { path: 'in.jsonl' }, rules: [{ name: 'amount-positive', field: 'amount', min: 0 }] }]),
    );
    expect(job.rules?.source).toBe('transactions');
    expect(job.rules?.names).toEqual(['amount-positive']);
    expect(compileJobOrThrow(manifest([{ name: 'transactions', file: { path: 'in.jsonl' } }])).rules).toBeUndefined();
  });

  it('refuses a bad rule by its path in the manifest, and rules on a joined source as not there yet', () => {
    const result = compileJob(
      manifest([
        {
          name: 'transactions',
          file: { path: 'in.jsonl' },
          rules: [
            { name: 'ok', field: 'a', required: true },
            { name: 'bad', field: 'b', regex: '(' },
          ],
        },
        { name: 'customers', file: { path: 'c.jsonl' }, rules: [{ name: 'ok', field: 'a', required: true }] },
      ]),
    );
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^spec\.sources\[1\]\.rules: rules on a joined source arrives in a later release/),
      expect.stringMatching(/^spec\.sources\[0\]\.rules\[1\]\.regex: "\(" is not a valid regular expression/),
    ]);
  });
});
