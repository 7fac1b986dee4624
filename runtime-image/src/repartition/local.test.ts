// The repartition stage in streamctl run: a source keyed by something else gives the windows of a source keyed by the key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileJobOrThrow } from '../compiler/compile.js';
import { GeneratorSource } from '../connectors/generator/source.js';
import type { Sink, SinkRecord } from '../connectors/sink.js';
import type { ReadOptions, Source, SourceBatch } from '../connectors/source.js';
import { runJob } from '../runner/run.js';
import { type KeyedStateFactory, MemoryKeyedState } from '../state/keyed.js';
import { LocalRepartition } from './local.js';

type Row = Record<string, unknown>;

/** A bounded source of the given batches, in the order given (each batch's records in offset order). */
class BatchesSource implements Source {
  readonly bounded = true;
  constructor(
    private readonly partitionCount: number,
    private readonly batches: readonly { partition: number; values: Row[] }[],
    /** Aborted just before the batch of this index is handed out: the run stops after processing it. */
    private readonly stopAt?: { batch: number; controller: AbortController },
  ) {}

  partitions(): Promise<number[]> {
    return Promise.resolve(Array.from({ length: this.partitionCount }, (_, partition) => partition));
  }

  async *read(options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    const offsets = new Array<number>(this.partitionCount).fill(0);
    for (const [index, { partition, values }] of this.batches.entries()) {
      const records = values
        .map((value) => ({ value, partition, offset: offsets[partition]!++ }))
        .filter(({ offset }) => offset >= (options.from?.[partition] ?? 0));
      if (records.length === 0) continue;
      if (index === this.stopAt?.batch) this.stopAt.controller.abort();
      yield await Promise.resolve({ partition, records, rejected: [], next: offsets[partition]! });
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class Collected implements Sink {
  readonly values: Row[] = [];
  write(record: SinkRecord): undefined {
    this.values.push(record.value);
  }
  commit(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const sorted = (rows: Row[]): string[] => rows.map((row) => JSON.stringify(row)).sort();

function velocityJob(source: Row): ReturnType<typeof compileJobOrThrow> {
  return compileJobOrThrow({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'velocity' },
    spec: {
      sources: [{ name: 'transactions', ...source, format: 'json', eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '0s' } }],
      pipeline: [
        { filter: 'amount > 0.0' },
        { keyBy: { field: 'customer_id' } },
        {
          window: { type: 'tumbling', size: '5m' },
          aggregate: [
            { name: 'txn_count', fn: 'count' },
            { name: 'txn_sum', fn: 'sum', field: 'amount' },
          ],
        },
      ],
      sinks: [{ name: 'out', stdout: {} }],
    },
  });
}

const txn = (account: string, customer: string, amount: number, minute: number): Row => ({
  account,
  customer_id: customer,
  amount,
  timestamp: `2025-12-05T00:0${minute}:00Z`,
});

/** Partition 0 holds account a1's transactions, partition 1 account a2's: customers c1 and c2 are in both. */
const byAccount = [
  { partition: 0, values: [txn('a1', 'c1', 10, 1), txn('a1', 'c2', 5, 2), txn('a1', 'c1', 1, 6)] },
  // Partition 1 lags: its records are older than partition 0's last, and must not be late.
  { partition: 1, values: [txn('a2', 'c1', 20, 3), txn('a2', 'c1', 2, 4), txn('a2', 'c2', 7, 7)] },
];

const window = (customer: string, from: number, count: number, sum: number): Row => ({
  customer_id: customer,
  window_start: `2025-12-05T00:0${from}:00.000Z`,
  window_end: `2025-12-05T00:${String(from + 5).padStart(2, '0')}:00.000Z`,
  txn_count: count,
  txn_sum: sum,
});

describe('a job whose source is not keyed by its keyBy, in one process', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-repartition-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (job: ReturnType<typeof compileJobOrThrow>, source: Source): Promise<{ results: Row[]; late: number }> => {
    const results = new Collected();
    const summary = await runJob({ job, specHash: 'test', source, results: [results], stateDir: join(dir, `state-${Math.random()}`) });
    return { results: results.values, late: summary.late };
  };

  it('counts a customer whose transactions are in two partitions once per window, as a topic keyed by customer would (hand-computed)', async () => {
    const expected = [window('c1', 0, 3, 32), window('c2', 0, 1, 5), window('c1', 5, 1, 1), window('c2', 5, 1, 7)];
    const job = velocityJob({ kafka: { topic: 'transactions', keyedBy: 'account' } });
    expect(job.repartition?.key).toBe('customer_id');

    const repartitioned = await run(job, new BatchesSource(2, byAccount));
    expect(repartitioned.late).toBe(0);
    expect(sorted(repartitioned.results)).toEqual(sorted(expected));

    // The same transactions on one partition keyed by customer, in event-time order.
    const inOrder = byAccount.flatMap(({ values }) => values).sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
    const coPartitioned = await run(
      velocityJob({ kafka: { topic: 'transactions', keyedBy: 'customer_id' } }),
      new BatchesSource(1, [{ partition: 0, values: inOrder }]),
    );
    expect(sorted(coPartitioned.results)).toEqual(sorted(expected));
  });

  it('holds stage 2 back to the least watermark of the source partitions, and fires all at the end of input', async () => {
    // Partition 1 has not reached minute 5 when partition 0 is past it: c1's first window waits for it.
    const job = velocityJob({ kafka: { topic: 'transactions' } });
    const { results, late } = await run(job, new BatchesSource(2, [byAccount[0]!, { partition: 1, values: [txn('a2', 'c1', 20, 3)] }]));
    expect(late).toBe(0);
    expect(sorted(results)).toEqual(sorted([window('c1', 0, 2, 30), window('c2', 0, 1, 5), window('c1', 5, 1, 1)]));
  });

  it('keeps stage 2’s state and watermark in a savepoint: a run stopped after partition 0 and restored counts c1 once per window', async () => {
    const job = velocityJob({ kafka: { topic: 'transactions' } });
    const controller = new AbortController();
    const first = new Collected();
    const stopped = await runJob({
      job,
      specHash: 'test',
      source: new BatchesSource(2, byAccount, { batch: 0, controller }),
      results: [first],
      stateDir: join(dir, 'first'),
      savepointDir: join(dir, 'savepoints'),
      signal: controller.signal,
    });
    // Partition 1 has not started: stage 2's watermark is still its −∞, so nothing has fired.
    expect(first.values).toEqual([]);
    const second = new Collected();
    await runJob({
      job,
      specHash: 'test',
      source: new BatchesSource(2, byAccount),
      results: [second],
      stateDir: join(dir, 'second'),
      restore: stopped.savepoint!,
    });
    expect(sorted(second.values)).toEqual(sorted([window('c1', 0, 3, 32), window('c2', 0, 1, 5), window('c1', 5, 1, 1), window('c2', 5, 1, 7)]));

    // Keys are placed by their hash over the partition count: another count would find each key's state elsewhere.
    await expect(
      runJob({ job, specHash: 'test', source: new BatchesSource(3, byAccount), results: [], stateDir: join(dir, 'third'), restore: stopped.savepoint! }),
    ).rejects.toThrow(/the snapshot holds source partitions 0, 1 but the input has 0, 1, 2; .* pass --parallelism 2/);
  });

  it('lets a source partition without records for idleTimeout stop holding stage 2 back, and only then', () => {
    const plan = velocityJob({ kafka: { topic: 'transactions' } }).repartition!;
    const memory: KeyedStateFactory = <V>() => new MemoryKeyedState<V>([]);
    const fired = (idleTimeout: number | undefined): Row[] => {
      let now = 0;
      const results: Row[] = [];
      const stages = new LocalRepartition({
        plan,
        sourcePartitions: [0, 1],
        stageState: () => memory,
        outputs: { result: (record) => results.push(record.value), late: () => undefined, deadLetter: () => undefined },
        idleTimeout,
        clock: () => now,
      });
      const partition0 = stages.upstream(0, memory);
      for (const row of [txn('a1', 'c1', 10, 1), txn('a1', 'c1', 1, 6)]) partition0.processRecord(row, Date.parse(String(row.timestamp)));
      // Partition 1 has had nothing, but not yet for a minute: it still holds stage 2 at −∞.
      expect(results).toEqual([]);
      now = 60_000;
      const last = txn('a1', 'c2', 5, 7);
      partition0.processRecord(last, Date.parse(String(last.timestamp)));
      return results;
    };
    expect(fired(60_000)).toEqual([window('c1', 0, 1, 10)]);
    expect(fired(undefined)).toEqual([]);
  });

  it('gives the final windows of parallelism 1 at parallelism 3 over a generator partitioned by merchant', async () => {
    const options = { workload: 'transactions', seed: 7, count: 3000, keys: 40, rate: 2, keyField: 'merchant_id' } as const;
    const job = velocityJob({ generator: options });
    expect(job.repartition?.sourceKeyedBy).toBe('merchant_id');
    const one = await run(job, new GeneratorSource({ ...options, partitions: 1, batchSize: 64 }));
    const three = await run(job, new GeneratorSource({ ...options, partitions: 3, batchSize: 64 }));
    expect(one.results.length).toBeGreaterThan(150);
    expect(three.late).toBe(one.late);
    expect(sorted(three.results)).toEqual(sorted(one.results));
  });
});
