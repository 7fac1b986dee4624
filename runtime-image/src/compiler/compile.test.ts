import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { MemoryKeyedState } from '../state/keyed.js';
import { Task } from '../dataflow/task.js';
import { compileJob, compileJobOrThrow } from './compile.js';
import { formatProblem } from './problems.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');

type Spec = Record<string, unknown>;

/** The fraud-velocity job, changed by `edit`: each bad spec below is this job with one or more mistakes. */
function fraud(edit: (spec: Spec) => void = () => undefined): unknown {
  const spec: Spec = {
    sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' } }],
    pipeline: [
      { keyBy: { field: 'customer_id' } },
      {
        window: { type: 'tumbling', size: '5m', allowedLateness: '1m' },
        aggregate: [
          { name: 'txn_count', fn: 'count' },
          { name: 'txn_sum', fn: 'sum', field: 'amount' },
        ],
      },
    ],
    sinks: [{ name: 'out', kafka: { topic: 'fraud-features', key: '{customer_id}' } }],
  };
  edit(spec);
  return { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { name: 'fraud' }, spec };
}

const pipeline = (spec: Spec) => spec.pipeline as Spec[];
const window = (spec: Spec) => pipeline(spec)[1]!.window as Spec;

function problemsOf(manifest: unknown): string[] {
  const result = compileJob(manifest);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('the job compiler', () => {
  it.each(readdirSync(examples))('compiles the example %s', (example) => {
    const manifest: unknown = parse(readFileSync(join(examples, example, 'job.yaml'), 'utf8'));
    expect(problemsOf(manifest)).toEqual([]);
  });

  it('builds the fraud job as the DataStream API would, with the event time and sinks a runner needs', () => {
    const job = compileJobOrThrow(fraud());
    expect(job.dataflow.nodes.map((node) => [node.id, node.kind])).toEqual([['window-1', 'window']]);
    expect(job.dataflow.maxOutOfOrderness).toBe(30_000);
    expect(job.eventTime?.extract({ timestamp: '2025-12-05T10:00:00Z' })).toBe(Date.parse('2025-12-05T10:00:00Z'));
    expect(job.source).toEqual({ name: 'transactions', kind: 'kafka', topic: 'transactions', startingOffsets: 'earliest' });
    expect(job.sinks).toMatchObject([{ name: 'out', kind: 'kafka', topic: 'fraud-features', key: { template: '{customer_id}' } }]);
    expect(job.commitInterval).toBe(100);
  });

  it('compiles a postgres sink: its table, key columns, and each column’s CEL expression over the result', () => {
    const columns = { customer_id: 'customer_id', window_start: 'window_start', txn_count: 'txn_count', average: 'txn_sum / double(txn_count)' };
    const job = compileJobOrThrow(
      fraud((spec) =>
        (spec.sinks as Spec[]).push({ name: 'pg', postgres: { table: 'features.velocity', keyColumns: ['customer_id', 'window_start'], columns } }),
      ),
    );
    const sink = job.sinks[1]!;
    expect(sink).toMatchObject({ name: 'pg', kind: 'postgres', table: 'features.velocity', keyColumns: ['customer_id', 'window_start'] });
    const average = sink.kind === 'postgres' ? sink.columns?.find((column) => column.name === 'average') : undefined;
    expect(average?.value.evaluate({ txn_sum: 30, txn_count: 4 })).toBe(7.5);
  });

  it('compiles an s3 sink: parquet every minute by default, its prefix a folder', () => {
    const job = compileJobOrThrow(
      fraud((spec) =>
        (spec.sinks as Spec[]).push(
          { name: 'lake', s3: { bucket: 'fraud-lake', prefix: 'features/velocity' } },
          { name: 'raw', s3: { bucket: 'fraud-lake', format: 'jsonl', rollInterval: '10s' } },
        ),
      ),
    );
    expect(job.sinks.slice(1)).toEqual([
      { name: 'lake', kind: 's3', bucket: 'fraud-lake', prefix: 'features/velocity/', format: 'parquet', rollInterval: 60_000 },
      { name: 'raw', kind: 's3', bucket: 'fraud-lake', prefix: '', format: 'jsonl', rollInterval: 10_000 },
    ]);
  });

  it('runs CEL filter, map and flatMap steps, and sends a filter that is not bool to the dead letters', () => {
    const job = compileJobOrThrow(
      fraud((spec) => {
        spec.pipeline = [
          { flatMap: 'items.map(i, {"sku": i.sku, "qty": i.qty, "order": order_id})' },
          { filter: 'qty > 1' },
          { map: { fields: { sku: 'sku', total: 'qty * 2' } } },
          { filter: 'sku' },
        ];
      }),
    );
    const results: unknown[] = [];
    const reasons: string[] = [];
    const task = new Task(job.dataflow, {
      state: () => new MemoryKeyedState(),
      outputs: { result: (record) => results.push(record.value), late: () => undefined, deadLetter: ({ reason }) => reasons.push(reason) },
    });
    task.processRecord(
      {
        order_id: 'o1',
        items: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 3 },
        ],
      },
      0,
    );
    expect(results).toEqual([]);
    expect(reasons).toEqual(['filter-3: "sku" returned "b", not true or false; a filter must be a condition']);
  });

  it('reads epoch event times and says why a record has none', () => {
    const job = compileJobOrThrow(fraud((spec) => ((spec.sources as Spec[])[0]!.eventTime = { field: 'meta.ts', format: 'epoch-seconds' })));
    expect(job.eventTime?.extract({ meta: { ts: 1.5 } })).toBe(1500);
    expect(() => job.eventTime?.extract({ meta: {} })).toThrow('the event time field meta.ts is missing, not a number of epoch seconds');
  });

  it.each<[string, (spec: Spec) => void, string[]]>([
    [
      'a window size that is not a duration',
      (spec) => (window(spec).size = 'five minutes'),
      ['spec.pipeline[1].window.size: "five minutes" is not a duration such as 5m'],
    ],
    [
      'several mistakes at once, all reported',
      (spec) => {
        window(spec).size = '0s';
        window(spec).allowedLateness = 'a minute';
        (spec.sources as Spec[])[0]!.eventTime = { field: 'timestamp', maxOutOfOrderness: '30 s' };
      },
      [
        'spec.sources[0].eventTime.maxOutOfOrderness: "30 s" is not a duration such as 5m',
        'spec.pipeline[1].window.size: "0s" must be longer than 0; use a duration such as 5m',
        'spec.pipeline[1].window.allowedLateness: "a minute" is not a duration such as 5m',
      ],
    ],
    [
      'a join step whose table is not a source of the job',
      (spec) => pipeline(spec).unshift({ join: { with: 'customers', type: 'table', leftKey: 'customer_id' } }),
      [
        'spec.pipeline[0].join.with: "customers" is not one of the job\'s other sources (spec.sources after the first); the job has no other source: add the table to spec.sources',
      ],
    ],
    [
      'a pattern step without a keyBy before it',
      (spec) => pipeline(spec).push({ pattern: { steps: [{ name: 'big', condition: 'txn_sum > 1000.0' }], within: '10m' } }),
      ["spec.pipeline[2].pattern: needs a keyBy step before it, for example { keyBy: { field: ip } }: a pattern matches each key's records"],
    ],
    [
      'a dedupe step',
      (spec) => pipeline(spec).unshift({ dedupe: { key: 'transaction_id', within: '1h' } }),
      ['spec.pipeline[0].dedupe: dedupe arrives in a later release of Sluice; the engine runs filter, map, flatMap, keyBy and window steps today'],
    ],
    [
      'an s3 sink with a bucket name S3 refuses, an unknown format and a zero roll interval',
      (spec) => (spec.sinks as Spec[]).push({ name: 'lake', s3: { bucket: 'b', format: 'csv', rollInterval: '0s' } }),
      [
        'spec.sinks[1].s3.bucket: "b" is not a bucket name; name the bucket, for example fraud-lake',
        'spec.sinks[1].s3.format: "csv" is not an S3 sink format; use parquet or jsonl',
        'spec.sinks[1].s3.rollInterval: "0s" must be longer than 0; use a duration such as 5m',
      ],
    ],
    [
      'a postgres sink with a bad table name, a repeated key column, and columns without a key column or with bad CEL',
      (spec) =>
        (spec.sinks as Spec[]).push(
          { name: 'pg', postgres: { table: 'features.velocity.v2', keyColumns: ['customer_id', 'customer_id'] } },
          { name: 'pg2', postgres: { table: 'velocity', keyColumns: ['customer_id'], columns: { txn_count: 'txn_count +' } } },
        ),
      [
        'spec.sinks[1].postgres.table: "features.velocity.v2" is not a table name; name the table to upsert into, for example customer_velocity or features.customer_velocity',
        'spec.sinks[1].postgres.keyColumns: names a column twice; list each key column once',
        'spec.sinks[2].postgres.columns.txn_count: is not valid CEL: Unexpected token: EOF (column 12)',
        "spec.sinks[2].postgres.columns: has no customer_id, a key column; add customer_id: <expression>, or leave columns out to write the result's fields as they are",
      ],
    ],
    [
      'a format that is not one',
      (spec) => ((spec.sources as Spec[])[0]!.format = 'protobuf'),
      ['spec.sources[0].format: "protobuf" is not a format; use one of json, json-schema, avro'],
    ],
    [
      'a filter that is not a condition, and one that does not parse',
      (spec) => pipeline(spec).unshift({ filter: 'customer_id + "x"' }, { filter: 'amount >' }),
      [
        'spec.pipeline[0].filter: returns string, not bool; write a condition such as amount > 100.0',
        'spec.pipeline[1].filter: is not valid CEL: Unexpected token: EOF (column 9)',
      ],
    ],
    [
      'a flatMap that is not a list',
      (spec) => pipeline(spec).unshift({ flatMap: '{"a": 1}' }),
      ['spec.pipeline[0].flatMap: returns map<string, int>, not a list; write a list of maps such as items.map(i, {"sku": i.sku})'],
    ],
    [
      'a window without keyBy',
      (spec) => pipeline(spec).shift(),
      ['spec.pipeline[0].window: needs a keyBy step before it, for example { keyBy: { field: customer_id } }'],
    ],
    [
      'a keyBy with nothing after it',
      (spec) => pipeline(spec).pop(),
      ['spec.pipeline[0].keyBy: must be followed by a window step: keyBy groups the stream for the window after it'],
    ],
    [
      'two operators in one step',
      (spec) => pipeline(spec).unshift({ filter: 'amount > 1.0', map: { fields: { a: 'amount' } } }),
      ['spec.pipeline[0]: set one operator per step, not filter and map; split it into 2 steps'],
    ],
    [
      'sliding windows with a slide longer than the size, and a session window given a size',
      (spec) => {
        Object.assign(window(spec), { type: 'sliding', size: '1m', slide: '5m' });
        pipeline(spec).push({ keyBy: { field: 'customer_id' } }, { window: { type: 'session', size: '5m' }, aggregate: [{ name: 'n', fn: 'count' }] });
      },
      [
        'spec.pipeline[1].window.slide: "5m" is longer than size "1m"; a sliding window\'s slide is at most its size',
        'spec.pipeline[3].window.size: is not a setting of session windows, which take gap; remove it',
        'spec.pipeline[3].window.gap: is required for session windows: a duration such as 30m',
      ],
    ],
    [
      'aggregates that are wrong',
      (spec) =>
        (pipeline(spec)[1]!.aggregate = [
          { name: 'txn_sum', fn: 'sum' },
          { name: 'p', fn: 'percentile', field: 'amount' },
          { name: 'customer_id', fn: 'count' },
          { name: 'm', fn: 'max', expression: 'amount *' },
        ]),
      [
        'spec.pipeline[1].aggregate[0]: aggregate txn_sum: sum needs a field (or a value) to aggregate',
        'spec.pipeline[1].aggregate[1]: aggregate p: percentile needs q, the quantile between 0 and 1 (0.99 for p99)',
        'spec.pipeline[1].aggregate[3].expression: is not valid CEL: Unexpected token: EOF (column 9)',
      ],
    ],
    [
      'an aggregate named like the key',
      (spec) => (pipeline(spec)[1]!.aggregate = [{ name: 'customer_id', fn: 'count' }]),
      ['spec.pipeline[1].aggregate: aggregate customer_id would overwrite the result field customer_id; rename the aggregate'],
    ],
    [
      'a bad Redis sink and a bad key template',
      (spec) =>
        (spec.sinks = [
          { name: 'r', redis: { key: 'f:{customer id}', ttl: '5 minutes', value: 'txn_count +' } },
          { name: 'k', kafka: { topic: 'out', key: '{customer_id' } },
        ]),
      [
        'spec.sinks[0].redis.key: key template "f:{customer id}": {customer id} at position 2 is not valid CEL: Unexpected character: \'d\' (column 10)',
        'spec.sinks[0].redis.value: is not valid CEL: Unexpected token: EOF (column 12)',
        'spec.sinks[0].redis.ttl: "5 minutes" is not a duration such as 5m',
        'spec.sinks[1].kafka.key: key template "{customer_id": the "{" at position 0 is not closed; write {field}, or {{ for a literal brace',
      ],
    ],
    ['no sinks', (spec) => (spec.sinks = []), ['spec.sinks: name at least one sink, for example { name: out, stdout: {} }']],
    [
      'a generator with an unknown workload',
      (spec) => ((spec.sources as Spec[])[0] = { name: 'g', generator: { workload: 'trades' } }),
      ['spec.sources[0].generator: generator workload "trades" is unknown; use one of transactions, clickstream, logins'],
    ],
  ])('refuses %s, naming each field and the fix', (_, edit, expected) => {
    expect(problemsOf(fraud(edit))).toEqual(expected);
  });
});
