// Pacing: never faster than the rate, batches cut into small steps with their offsets and rejections kept straight.
import { paced, split } from './paced.js';
import type { Source, SourceBatch } from './source.js';
import { ManualClock } from '../time/manual-clock.js';
import { GeneratorSource } from './generator/source.js';

test('a paced source delivers the same batches’ records, each step no sooner than the rate allows', async () => {
  const rate = 400;
  const clock = new ManualClock(1_000);
  const unpaced = new GeneratorSource({ workload: 'logins', count: 200, batchSize: 64 });
  const source = paced(unpaced, rate, 0, clock);
  expect(source.bounded).toBe(true);
  expect(await source.partitions()).toEqual([0]);
  const sizes: number[] = [];
  const offsets: number[] = [];
  const releases: { before: number; at: number }[] = [];
  for await (const batch of source.read()) {
    releases.push({ before: offsets.length, at: clock.now() - 1_000 });
    sizes.push(batch.records.length);
    offsets.push(...batch.records.map((r) => r.offset));
  }
  expect(offsets).toEqual(Array.from({ length: 200 }, (_, i) => i));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  // A step after n records is released n / 400 s after the start (a wait under 1 ms is not taken).
  for (const { before, at } of releases) expect(at).toBeGreaterThan((before / rate) * 1000 - 1);
  // The last step is released once 196 records are out: 490 ms after the start, not later.
  expect(releases.at(-1)).toEqual({ before: 196, at: 490 });
});

test('the first catchUp records are released at once, then the rate holds', async () => {
  const clock = new ManualClock(0);
  const source = paced(new GeneratorSource({ workload: 'logins', count: 100, batchSize: 50 }), 100, 60, clock);
  const released: number[] = [];
  for await (const batch of source.read()) released.push(...batch.records.map(() => clock.now()));
  expect(released.slice(0, 61).every((at) => at === 0)).toBe(true);
  expect(released.at(-1)).toBe(390);
});

test('rate 0 leaves the source as it is; a negative rate is refused', () => {
  const source: Source = new GeneratorSource({ workload: 'logins', count: 1 });
  expect(paced(source, 0)).toBe(source);
  expect(() => paced(source, -1)).toThrow('pacing rate -1 is not valid');
});

test('split keeps offsets, positions and rejected inputs of each piece', () => {
  const record = (offset: number) => ({ value: { offset }, partition: 2, offset });
  const reject = (offset: number) => ({ partition: 2, offset, reason: 'bad', raw: Buffer.from('x') });
  const batch: SourceBatch = { partition: 2, records: [10, 11, 13, 14, 15].map(record), rejected: [12, 16].map(reject), next: 18 };
  expect(split(batch, 2)).toEqual([
    { partition: 2, records: [record(10), record(11)], rejected: [], next: 12 },
    { partition: 2, records: [record(13), record(14)], rejected: [reject(12)], next: 15 },
    { partition: 2, records: [record(15)], rejected: [reject(16)], next: 18 },
  ]);
  expect(split(batch, 5)).toEqual([batch]);
});
