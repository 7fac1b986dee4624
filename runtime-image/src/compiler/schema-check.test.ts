// The schema check: the fields a job reads, found in (or missing from) Avro and JSON Schema subjects, with the step and the fix named.
import { describe, expect, it } from '@jest/globals';
import {
  checkJobAgainstSchema,
  checkResultsAgainstSink,
  closestName,
  fieldsReadFromSource,
  resultFields,
  schemaShape,
  type SourceSchema,
} from './schema-check.js';

const AVRO = JSON.stringify({
  type: 'record',
  name: 'Transaction',
  namespace: 'bank',
  fields: [
    { name: 'amount', type: 'double' },
    { name: 'customer_id', type: 'string' },
    { name: 'merchant', type: ['null', 'string'], default: null },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'fee', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    {
      name: 'payment',
      type: [
        'null',
        { type: 'record', name: 'Payment', fields: [{ name: 'card', type: { type: 'record', name: 'Card', fields: [{ name: 'id', type: 'string' }] } }] },
      ],
      default: null,
    },
    { name: 'refund_payment', type: ['null', 'Payment'], default: null },
    { name: 'items', type: { type: 'array', items: 'string' } },
  ],
});

const JSON_SCHEMA = JSON.stringify({
  type: 'object',
  required: ['amount', 'customer_id'],
  properties: {
    amount: { type: 'number' },
    customer_id: { type: 'string' },
    merchant: { type: ['string', 'null'] },
    timestamp: { type: 'integer' },
    payment: { anyOf: [{ type: 'null' }, { type: 'object', properties: { card: { type: 'object', properties: { id: { type: 'string' } } } } }] },
    labels: { type: 'object' },
  },
});

const avro: SourceSchema = { subject: 'transactions-value', version: 3, record: schemaShape('AVRO', AVRO) };
const jsonSchema: SourceSchema = { subject: 'transactions-value', version: 1, record: schemaShape('JSON', JSON_SCHEMA) };

function job(pipeline: unknown[], source: Record<string, unknown> = {}, sinks: unknown[] = []): unknown {
  return { sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'avro', ...source }], pipeline, sinks };
}

describe('the schema check', () => {
  it('names the step, the subject and version, the fields, and the closest name for a typo in a filter', () => {
    expect(checkJobAgainstSchema(job([{ filter: 'amont > 100.0' }]), avro)).toEqual([
      {
        path: 'spec.pipeline[0].filter',
        message:
          'field amont is not in subject transactions-value version 3 (fields: amount, customer_id, merchant, timestamp, fee, payment, refund_payment, items); did you mean amount?',
      },
    ]);
  });

  it('finds a typo in keyBy.field, an aggregate field, the event-time field and a sink key template', () => {
    const spec = job(
      [{ keyBy: { field: 'customerid' } }, { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'total', fn: 'sum', field: 'amuont' }] }],
      { eventTime: { field: 'timestmap' } },
    );
    const problems = checkJobAgainstSchema(spec, avro);
    expect(problems.map((problem) => problem.path)).toEqual([
      'spec.sources[0].eventTime.field',
      'spec.pipeline[0].keyBy.field',
      'spec.pipeline[1].aggregate[0].field',
    ]);
    expect(problems[0]!.message).toMatch(/did you mean timestamp\?$/);
    expect(problems[1]!.message).toMatch(/did you mean customer_id\?$/);
    expect(problems[2]!.message).toMatch(/did you mean amount\?$/);
    const keyed = checkJobAgainstSchema(job([{ filter: 'amount > 1.0' }], {}, [{ name: 'out', redis: { key: 'fraud:{custmer_id}' } }]), avro);
    expect(keyed).toEqual([
      { path: 'spec.sinks[0].redis.key', message: expect.stringMatching(/^field custmer_id is not in .*did you mean customer_id\?$/) as unknown },
    ]);
  });

  it('walks nested paths through records, optional unions with null and named references', () => {
    expect(checkJobAgainstSchema(job([{ filter: 'payment.card.id != "" && self.refund_payment.card.id != "" && has(self.merchant)' }]), avro)).toEqual([]);
    expect(checkJobAgainstSchema(job([{ filter: 'payment.crd.id != ""' }]), avro)).toEqual([
      {
        path: 'spec.pipeline[0].filter',
        message: 'field payment.crd.id is not in subject transactions-value version 3 (fields of payment: card); did you mean payment.card?',
      },
    ]);
    expect(checkJobAgainstSchema(job([{ filter: 'amount.cents > 1' }]), avro)[0]!.message).toBe(
      'field amount.cents: amount is a number in subject transactions-value version 3, which has no field cents; read amount itself',
    );
  });

  it('reads JSON Schema objects, nullable types and anyOf with null; a free-form object is not looked into', () => {
    expect(checkJobAgainstSchema(job([{ filter: 'payment.card.id != "" && merchant != "" && labels.anything == "x"' }]), jsonSchema)).toEqual([]);
    expect(
      checkJobAgainstSchema(
        job([{ keyBy: { field: 'payment.card.di' } }, { window: { type: 'tumbling', size: '1m' }, aggregate: [{ name: 'n', fn: 'count' }] }]),
        jsonSchema,
      ),
    ).toEqual([
      {
        path: 'spec.pipeline[0].keyBy.field',
        message: 'field payment.card.di is not in subject transactions-value version 1 (fields of payment.card: id); did you mean payment.card.id?',
      },
    ]);
  });

  it('refuses a sum or avg over a string field, sure to fail on every record, and accepts one over a decimal', () => {
    const spec = job([
      { keyBy: { field: 'customer_id' } },
      {
        window: { type: 'tumbling', size: '5m' },
        aggregate: [
          { name: 'spent', fn: 'avg', field: 'merchant' },
          { name: 'fees', fn: 'sum', field: 'fee' },
          { name: 'merchants', fn: 'count_distinct', field: 'merchant' },
        ],
      },
    ]);
    expect(checkJobAgainstSchema(spec, avro)).toEqual([
      {
        path: 'spec.pipeline[1].aggregate[0].field',
        message:
          'avg over field merchant, a string in subject transactions-value version 3, fails on every record; aggregate a numeric field (amount, timestamp, fee), or count its values with count or count_distinct',
      },
    ]);
  });

  it('stops at the first step that reshapes records, and knows the fields a merging map adds', () => {
    const spec = job([
      { map: { merge: true, fields: { big: 'amount > 1000.0' } } },
      { filter: 'big && amount > 0.0' },
      { map: { fields: { spent: 'amount' } } },
      { filter: 'spent > 1.0' },
    ]);
    expect(fieldsReadFromSource(spec).uses.map((use) => `${use.at} ${use.field.join('.')}`)).toEqual([
      'spec.pipeline[0].map.fields.big amount',
      'spec.pipeline[1].filter big',
      'spec.pipeline[1].filter amount',
      'spec.pipeline[2].map.fields.spent amount',
    ]);
    expect(checkJobAgainstSchema(spec, avro)).toEqual([]);
  });

  it('does not take macro variables, cel.bind names or rules fields for record fields, and checks rules', () => {
    const spec = job([{ filter: 'items.exists(i, i == "gift") && cel.bind(x, amount, x > 1.0)' }], {
      rules: [
        { name: 'positive', field: 'amout', min: 0 },
        { name: 'known', cel: 'has(self.customer_id)' },
      ],
    });
    expect(checkJobAgainstSchema(spec, avro)).toEqual([
      { path: 'spec.sources[0].rules[0].field', message: expect.stringMatching(/^field amout is not in .*did you mean amount\?$/) as unknown },
    ]);
  });

  it('suggests a name only when a typo could explain it', () => {
    expect(closestName('customerid', ['amount', 'customer_id'])).toBe('customer_id');
    expect(closestName('amuont', ['amount'])).toBe('amount');
    expect(closestName('region', ['amount', 'customer_id'])).toBeUndefined();
  });

  it("refuses results that lack a field the sink's subject requires, and takes one the subject gives a default or null", () => {
    const features: SourceSchema = {
      subject: 'fraud-features-value',
      version: 2,
      record: schemaShape(
        'AVRO',
        JSON.stringify({
          type: 'record',
          name: 'Features',
          fields: [
            { name: 'customer_id', type: 'string' },
            { name: 'window_start', type: { type: 'long', logicalType: 'timestamp-millis' } },
            { name: 'txn_count', type: 'long' },
            { name: 'txn_max', type: 'double' },
            { name: 'region', type: 'string', default: 'nz' },
            { name: 'note', type: ['null', 'string'], default: null },
          ],
        }),
      ),
    };
    const spec = job([{ keyBy: { field: 'customer_id' } }, { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] }]);
    expect(resultFields(spec)).toEqual({ fromSource: false, names: ['customer_id', 'window_start', 'window_end', 'txn_count'] });
    expect(checkResultsAgainstSink(spec, 'spec.sinks[0].kafka.schema.subject', features, avro)).toEqual([
      {
        path: 'spec.sinks[0].kafka.schema.subject',
        message:
          "subject fraud-features-value version 2 requires field txn_max, which the pipeline's results do not hold (they hold customer_id, window_start, window_end, txn_count); add it (an aggregate or a map field named txn_max), or give it a default in the subject's schema",
      },
    ]);
    // Without reshaping, the results are the source's records: the source's schema says what they hold.
    expect(
      checkResultsAgainstSink(job([{ filter: 'amount > 1.0' }]), 'spec.sinks[0].kafka.schema.subject', features, avro).map(
        (problem) => problem.message.split(',')[0],
      ),
    ).toEqual([
      'subject fraud-features-value version 2 requires field window_start',
      'subject fraud-features-value version 2 requires field txn_count',
      'subject fraud-features-value version 2 requires field txn_max',
    ]);
    expect(resultFields(job([{ flatMap: 'items' }]))).toBeUndefined();
  });
});
