// The generator: deterministic by seed, partitioned by key like Kafka, resumable, with bounded disorder and late events.
import { createHash } from 'node:crypto';
import { partitionOf } from '../partitioner.js';
import type { ReadOptions, SourceRecord } from '../source.js';
import { DEFAULT_START, GeneratorOptionsError, type GeneratorOptions, type WorkloadName } from './options.js';
import { GeneratorSource } from './source.js';

const WORKLOADS: WorkloadName[] = ['transactions', 'clickstream', 'logins'];

async function collect(options: GeneratorOptions, read?: ReadOptions): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const batch of new GeneratorSource(options).read(read)) {
    expect(batch.rejected).toEqual([]);
    expect(batch.records.every((r) => r.partition === batch.partition)).toBe(true);
    expect(batch.next).toBe(batch.records[batch.records.length - 1]!.offset + 1);
    records.push(...batch.records);
  }
  return records;
}

const lines = (records: SourceRecord[]): string => records.map((r) => JSON.stringify(r.value)).join('\n');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const byPartitionOffset = (a: SourceRecord, b: SourceRecord): number => a.partition - b.partition || a.offset - b.offset;
const time = (r: SourceRecord): number => Date.parse(r.value.timestamp as string);

describe.each(WORKLOADS)('%s', (workload) => {
  test('the same seed gives a byte-identical stream, a different seed another one', async () => {
    const options: GeneratorOptions = { workload, seed: 42, count: 5000, keys: 300, disorder: 5000, lateFraction: 0.01 };
    const first = lines(await collect(options));
    expect(lines(await collect(options))).toBe(first);
    expect(lines(await collect({ ...options, seed: 43 }))).not.toBe(first);
    expect(lines(await collect({ ...options, seed: '42' }))).not.toBe(first);
  });

  test('partitioning assigns each key by Kafka’s partitioner and does not change the events', async () => {
    const single = await collect({ workload, count: 4000, keys: 200 });
    const four = await collect({ workload, count: 4000, keys: 200, partitions: 4 });
    const keyField = workload === 'transactions' ? 'customer_id' : 'user_id';
    for (const r of four) expect(r.partition).toBe(partitionOf(r.value[keyField] as string, 4));
    for (let p = 0; p < 4; p++) {
      const offsets = four.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(lines([...four].sort((a, b) => time(a) - time(b)))).toBe(lines(single));
  });

  test('a read of some partitions from given offsets is exactly that slice of the full stream', async () => {
    const options: GeneratorOptions = { workload, count: 4000, keys: 200, partitions: 3, disorder: 2000 };
    const all = (await collect(options)).sort(byPartitionOffset);
    const resumed = (await collect(options, { partitions: [0, 2], from: { 0: 100, 2: 1000 } })).sort(byPartitionOffset);
    expect(lines(resumed)).toBe(lines(all.filter((r) => (r.partition === 0 && r.offset >= 100) || (r.partition === 2 && r.offset >= 1000))));
  });

  test('event time follows the simulated clock, moved back by at most `disorder`, and disorder moves only timestamps', async () => {
    const rate = 250;
    const disorder = 10_000;
    const ordered = await collect({ workload, count: 3000, rate });
    const jittered = await collect({ workload, count: 3000, rate, disorder });
    let max = Number.NEGATIVE_INFINITY;
    let outOfOrder = 0;
    jittered.forEach((r, i) => {
      const clock = DEFAULT_START + Math.floor((i * 1000) / rate);
      expect(time(ordered[i]!)).toBe(clock);
      expect(clock - time(r)).toBeGreaterThanOrEqual(0);
      expect(clock - time(r)).toBeLessThanOrEqual(disorder);
      expect(max - time(r)).toBeLessThanOrEqual(disorder);
      if (time(r) < max) outOfOrder += 1;
      max = Math.max(max, time(r));
      expect({ ...r.value, timestamp: null }).toEqual({ ...ordered[i]!.value, timestamp: null });
    });
    expect(outOfOrder).toBeGreaterThan(1000);
  });

  test('`lateFraction` of the events are `lateBy` further behind', async () => {
    const lateBy = 3_600_000;
    const records = await collect({ workload, count: 20_000, disorder: 1000, lateFraction: 0.05, lateBy });
    const late = records.filter((r, i) => DEFAULT_START + i - time(r) >= lateBy);
    expect(late.length / records.length).toBeGreaterThan(0.045);
    expect(late.length / records.length).toBeLessThan(0.055);
    for (const [i, r] of records.entries()) expect(DEFAULT_START + i - time(r)).toBeLessThanOrEqual(lateBy + 1000);
  });

  test('`keys` bounds the distinct keys', async () => {
    const keyField = workload === 'transactions' ? 'customer_id' : 'user_id';
    const records = await collect({ workload, count: 20_000, keys: 50 });
    const keys = new Set(records.map((r) => r.value[keyField]));
    expect(keys.size).toBe(50);
  });
});

test('golden streams: the generator’s output for seed 42 does not change between versions or platforms', async () => {
  const digests: Record<string, string> = {};
  for (const workload of WORKLOADS) {
    digests[workload] = sha256(lines(await collect({ workload, seed: 42, count: 10_000, disorder: 10_000, lateFraction: 0.01, partitions: 1 })));
  }
  // A deliberate change to a workload changes these: update them in the same commit and say so in its message.
  expect(digests).toEqual({
    transactions: '940b2f26685f6605fcd5b6e1d40f41caa797f2fc008652635c1338129d46a4c5',
    clickstream: '11eb33afecbedad06e548f411afe45a2cd5423f762576ab2bad84865eaf2f045',
    logins: 'e099488be61aee0d6c0816d376749f8f1735858e5eaf65cf5012aa575f74708b',
  });
});

test('timestamps are ISO-8601 with milliseconds exactly as toISOString writes them, across days and before 1970', async () => {
  for (const start of ['1969-12-31T23:59:58.500Z', '2025-12-31T23:59:59.000Z', '2024-02-28T23:59:59.999Z']) {
    const records = await collect({ workload: 'logins', count: 3000, start, rate: 700, disorder: 1500, lateFraction: 0.1, lateBy: 86_400_000 });
    for (const r of records) expect(new Date(time(r)).toISOString()).toBe(r.value.timestamp);
  }
});

test('start "now" starts event time at the current time', async () => {
  const before = Date.now();
  const source = new GeneratorSource({ workload: 'transactions', start: 'now', count: 1 });
  expect(source.options.start).toBeGreaterThanOrEqual(before);
  const [record] = await collect({ workload: 'transactions', start: source.options.start, count: 1 });
  expect(time(record!)).toBe(source.options.start);
});

test('a generator without a count is unbounded and ends when closed', async () => {
  const source = new GeneratorSource({ workload: 'clickstream', rate: 0 });
  expect(source.bounded).toBe(false);
  expect(new GeneratorSource({ workload: 'clickstream', count: 0 }).bounded).toBe(true);
  let seen = 0;
  for await (const batch of source.read()) {
    seen += batch.records.length;
    if (seen >= 10_000) await source.close();
  }
  expect(seen).toBeGreaterThanOrEqual(10_000);
});

test.each([
  [{ workload: 'trades' }, 'use one of transactions, clickstream, logins'],
  [{ workload: 'transactions', keyField: 'user_id' }, 'use one of customer_id, merchant_id'],
  [{ workload: 'logins', rate: -1 }, 'generator rate -1 is not valid; use a number ≥ 0'],
  [{ workload: 'logins', keys: 0 }, 'generator keys 0 is not valid; use an integer ≥ 1'],
  [{ workload: 'logins', keys: 2.5 }, 'generator keys 2.5 is not valid'],
  [{ workload: 'logins', lateFraction: 1.5 }, 'use a number between 0 and 1'],
  [{ workload: 'logins', disorder: -5 }, 'generator disorder -5 is not valid; use an integer ≥ 0 (ms)'],
  [{ workload: 'logins', partitions: 0 }, 'generator partitions 0'],
  [{ workload: 'logins', start: 'yesterday' }, 'use epoch milliseconds, an ISO-8601 time'],
  [{ workload: 'logins', seed: 1.5 }, 'use an integer or a string'],
])('options %j are refused: %s', (options, message) => {
  expect(() => new GeneratorSource(options as GeneratorOptions)).toThrow(GeneratorOptionsError);
  expect(() => new GeneratorSource(options as GeneratorOptions)).toThrow(message);
});

test('reading a partition the generator does not have fails with the partitions it has', async () => {
  const read = async (): Promise<unknown> => collect({ workload: 'logins', partitions: 2, count: 10 }, { partitions: [2] });
  await expect(read()).rejects.toThrow('generator partition 2 does not exist: the generator has partitions 0…1');
});
