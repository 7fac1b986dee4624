// Which jobs get a repartition stage (kafka.keyedBy against keyBy, a generator's keyField), and the refusal runtime pods give them.
import { compileJob, compileJobOrThrow } from '../compiler/compile.js';
import { formatProblem } from '../compiler/problems.js';
import { localRunOptions } from '../runner/local.js';
import { repartitionRefusal, repartitionTopic } from './kafka.js';

type Row = Record<string, unknown>;

function job(source: Row, keyBy: Row, before: Row[] = []): Row {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'velocity' },
    spec: {
      sources: [{ name: 'transactions', ...source, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' } }],
      pipeline: [...before, { keyBy }, { id: 'velocity', window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] }],
      sinks: [{ name: 'out', stdout: {} }],
    },
  };
}

describe('the repartition stage a job gets', () => {
  it.each([
    ['a Kafka topic declared keyed by the keyBy field', { kafka: { topic: 't', keyedBy: 'customer_id' } }, { field: 'customer_id' }],
    [
      'a Kafka topic declared keyed by the keyBy expression, whitespace aside',
      { kafka: { topic: 't', keyedBy: 'card.bin +  ":" + card.last4' } },
      { expression: 'card.bin+":"+card.last4', name: 'card' },
    ],
    ['a generator partitioned by the keyBy field', { generator: { workload: 'transactions', keyField: 'merchant_id' } }, { field: 'merchant_id' }],
    ['a file (one partition)', { file: { path: 'in.jsonl' } }, { field: 'customer_id' }],
  ])('none for %s', (_what, source, keyBy) => {
    const compiled = compileJobOrThrow(job(source, keyBy));
    expect(compiled.repartition).toBeUndefined();
    expect(repartitionRefusal(compiled)).toBeUndefined();
  });

  it.each([
    ['a Kafka topic that declares no keyedBy', { kafka: { topic: 't' } }, undefined],
    ['a Kafka topic keyed by something else', { kafka: { topic: 't', keyedBy: 'account_id' } }, 'account_id'],
    ['a generator partitioned by merchant', { generator: { workload: 'transactions', keyField: 'merchant_id' } }, 'merchant_id'],
  ])('one for %s: the steps before keyBy upstream, its window and the rest downstream', (_what, source, keyedBy) => {
    const compiled = compileJobOrThrow(job(source, { field: 'customer_id' }, [{ filter: 'amount > 0.0' }]));
    const plan = compiled.repartition!;
    expect(plan).toMatchObject({ stepId: 'keyBy-1', path: 'spec.pipeline[1].keyBy', key: 'customer_id' });
    expect(plan.sourceKeyedBy).toBe(keyedBy);
    expect(plan.upstream.nodes.map((node) => node.id)).toEqual(['filter-0']);
    expect(plan.downstream.nodes.map((node) => node.id)).toEqual(['velocity']);
  });

  it('puts every record of a key in one partition, by Kafka’s partitioner on the key, and one whose key cannot be read in partition 0', () => {
    const plan = compileJobOrThrow(job({ kafka: { topic: 't' } }, { expression: 'customer.id', name: 'customer' })).repartition!;
    const partitions = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id) => plan.partitionOf({ customer: { id } }, 4));
    expect(new Set(partitions).size).toBeGreaterThan(1);
    expect(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id) => plan.partitionOf({ customer: { id }, other: 1 }, 4))).toEqual(partitions);
    expect(plan.partitionOf({}, 4)).toBe(0);
  });

  it('refuses a second keyBy that would need a repartition of its own, and a keyedBy that is not a key', () => {
    const second = job({ kafka: { topic: 't' } }, { field: 'customer_id' });
    (second.spec as { pipeline: Row[] }).pipeline.push(
      { keyBy: { field: 'txn_count' } },
      { window: { type: 'tumbling', size: '1h' }, aggregate: [{ name: 'n', fn: 'count' }] },
    );
    const refused = compileJob(second);
    expect(!refused.ok && refused.problems.map(formatProblem)).toEqual([
      'spec.pipeline[2].keyBy: a second repartition (by txn_count, after the one by customer_id) arrives in a later release of Sluice; key this step by customer_id as well, or split the job in two',
    ]);
    const blank = compileJob(job({ kafka: { topic: 't', keyedBy: ' ' } }, { field: 'customer_id' }));
    expect(!blank.ok && blank.problems.map(formatProblem)[0]).toMatch(/^spec\.sources\[0\]\.kafka\.keyedBy: " " is not a key/);
  });

  it('runs on runtime pods, through its repartition topic, unless stage 1 would keep state: then it is refused with the keyBy, the source and the fix', () => {
    const plain = compileJobOrThrow(job({ kafka: { topic: 'payments' } }, { field: 'customer_id' }));
    expect(repartitionRefusal(plain)).toBeUndefined();
    expect(repartitionTopic('shop.velocity', plain.repartition!)).toBe('shop.velocity-keyBy-0-repartition');
    // A window keyed by the topic's key, then a keyBy by customer: the window would be stage 1's state.
    const stateful = compileJobOrThrow(
      job({ kafka: { topic: 'payments', keyedBy: 'account' } }, { field: 'customer_id' }, [
        { keyBy: { field: 'account' } },
        { window: { type: 'tumbling', size: '1m' }, aggregate: [{ name: 'customer_id', fn: 'count' }] },
      ]),
    );
    expect(repartitionRefusal(stateful)).toBe(
      'spec.pipeline[2].keyBy: keys by customer_id, but source transactions (Kafka topic payments) is keyed by account (spec.sources[0].kafka.keyedBy), so the job needs a repartition stage, ' +
        "which runtime pods do not run yet for steps before the keyBy that keep state (window-1); move them after the keyBy, or if the topic's producers key its messages by customer_id, " +
        'set spec.sources[0].kafka.keyedBy: "customer_id" and no repartition stage is needed',
    );
  });
});

describe('streamctl run and a repartitioned job', () => {
  it('notes that runtime pods refuse it only where they do, with the fix', () => {
    const notes: string[] = [];
    const stateful = job({ kafka: { topic: 'payments', keyedBy: 'account' } }, { field: 'customer_id' }, [
      { keyBy: { field: 'account' } },
      { window: { type: 'tumbling', size: '1m' }, aggregate: [{ name: 'customer_id', fn: 'count' }] },
    ]);
    localRunOptions(compileJobOrThrow(stateful), 'hash', { generator: 'transactions', count: 10 }, (line) => notes.push(line));
    expect(notes).toContainEqual(
      expect.stringMatching(
        /^streamctl run repartitions in memory \(where the input has several partitions\); runtime pods refuse this job: spec\.pipeline\[2\]\.keyBy: keys by customer_id, .*set spec\.sources\[0\]\.kafka\.keyedBy: "customer_id"/,
      ),
    );
    const runs: string[] = [];
    localRunOptions(
      compileJobOrThrow(job({ kafka: { topic: 'payments' } }, { field: 'customer_id' })),
      'hash',
      { generator: 'transactions', count: 10 },
      (line) => runs.push(line),
    );
    expect(runs.filter((line) => line.includes('refuse'))).toEqual([]);
  });
});
