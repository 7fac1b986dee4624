// spec.erasure compiled: the topic, where the subject is read, the result field sinks erase by, and the problems named by path.
import { compileJobSpec } from '../compiler/compile.js';

const spec = (erasure: unknown, keyBy: Record<string, unknown> | undefined = { field: 'customer_id' }): Record<string, unknown> => ({
  sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json', eventTime: { field: 'timestamp', format: 'iso8601' } }],
  pipeline: [...(keyBy === undefined ? [] : [{ keyBy }]), { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'n', fn: 'count' }] }],
  sinks: [{ name: 'out', kafka: { topic: 'features', key: '{customer_id}' } }],
  erasure,
});

describe('spec.erasure', () => {
  it('compiles the topic, the key field, and the result field of the keyBy (a field, or an expression key by its name)', () => {
    const job = compileJobSpec(spec({ topic: 'erasures', keyField: 'subject' }), 'fraud');
    expect(job.ok && job.job.erasure).toEqual({ topic: 'erasures', keyField: 'subject', resultField: 'customer_id' });
    const byExpression = compileJobSpec(spec({ topic: 'erasures' }, { expression: 'customer_id', name: 'customer' }), 'fraud');
    expect(byExpression.ok && byExpression.job.erasure).toEqual({ topic: 'erasures', resultField: 'customer' });
  });

  it('refuses an erasure without a topic, naming the field and the fix', () => {
    const result = compileJobSpec(spec({ keyField: 'subject' }), 'fraud');
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((problem) => problem.path)).toEqual(['spec.erasure']);
    expect(problems[0]!.message).toContain('write { topic: customer-erasures }');
  });
});
