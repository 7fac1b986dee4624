// The Redis sink on the real Redis of the test environment: keys from the template, TTL, idempotent replays, dead letters.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readEndpoints } from '../../../../test/env/src/endpoints.js';
import { startPrivateRedis } from '../../../../test/faults/stuck-harness.js';
import type { SinkRecord } from '../sink.js';
import { RedisSink } from './sink.js';

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis(readEndpoints().redis.url);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = `test-${randomBytes(6).toString('hex')}`;
});

const url = (): string => readEndpoints().redis.url;
const result = (customer: string, count: number, windowStart = '2025-12-05T10:20:00.000Z'): SinkRecord => ({
  value: { customer_id: customer, window_start: windowStart, window_end: '2025-12-05T10:25:00.000Z', txn_count: count, txn_sum: count * 10.5 },
  timestamp: Date.parse('2025-12-05T10:24:59.999Z'),
});

test('the seed’s feature: key from the template, the count as the value, a 5-minute TTL, written on commit', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:fraud_features:{customer_id}:txn_count_5m`, valueField: 'txn_count', ttlMs: 300_000 });
  expect(sink.write(result('C123', 3))).toBeUndefined();
  expect(await redis.get(`${prefix}:fraud_features:C123:txn_count_5m`)).toBeNull();
  await sink.commit();
  expect(await redis.get(`${prefix}:fraud_features:C123:txn_count_5m`)).toBe('3');
  const ttl = await redis.pttl(`${prefix}:fraud_features:C123:txn_count_5m`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(300_000);
  await sink.close();
});

test('without a value field the whole result is stored as JSON; without a TTL the key does not expire', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:{customer_id}:{window_start}` });
  const r = result('C7', 2);
  sink.write(r);
  await sink.close();
  const key = `${prefix}:C7:2025-12-05T10:20:00.000Z`;
  expect(JSON.parse((await redis.get(key))!)).toEqual(r.value);
  expect(await redis.pttl(key)).toBe(-1);
});

test('a string field is stored as it is', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:{customer_id}`, valueField: 'window_start' });
  sink.write(result('C1', 1));
  await sink.close();
  expect(await redis.get(`${prefix}:C1`)).toBe('2025-12-05T10:20:00.000Z');
});

test('a re-fired window overwrites its key with the update; replaying the same results leaves the same values', async () => {
  const key = `${prefix}:{customer_id}:{window_start}`;
  const results = [result('C1', 1), result('C2', 5), result('C1', 2), result('C1', 3, '2025-12-05T10:25:00.000Z')];
  const first = new RedisSink({ url: url(), key, valueField: 'txn_count', ttlMs: 60_000 });
  for (const r of results) first.write(r);
  await first.close();
  const snapshot = async (): Promise<Record<string, string | null>> => {
    const keys = (await redis.keys(`${prefix}:*`)).sort();
    const values = await redis.mget(keys);
    return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
  };
  const before = await snapshot();
  expect(before).toEqual({
    [`${prefix}:C1:2025-12-05T10:20:00.000Z`]: '2',
    [`${prefix}:C1:2025-12-05T10:25:00.000Z`]: '3',
    [`${prefix}:C2:2025-12-05T10:20:00.000Z`]: '5',
  });
  const replay = new RedisSink({ url: url(), key, valueField: 'txn_count', ttlMs: 60_000 });
  for (const r of results) replay.write(r);
  await replay.close();
  expect(await snapshot()).toEqual(before);
});

test('results missing a key field or the value field go to dead letters with a reason naming the field', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:fraud_features:{customer_id}:txn_count_5m`, valueField: 'txn_count' });
  const noCustomer: SinkRecord = { value: { txn_count: 1 }, timestamp: 0 };
  const noCount: SinkRecord = { value: { customer_id: 'C9' }, timestamp: 0 };
  const dead = [sink.write(noCustomer), sink.write(noCount)];
  expect(dead[0]).toEqual({ record: noCustomer, reason: expect.stringContaining('no usable field "customer_id" (it is missing)') as unknown });
  expect(dead[1]).toEqual({ record: noCount, reason: expect.stringContaining('value field "txn_count" is missing') as unknown });
  await sink.close();
  expect(await redis.keys(`${prefix}:*`)).toEqual([]);
});

test('many results in one commit go out in several pipelines and all arrive', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:{customer_id}`, valueField: 'txn_count', ttlMs: 60_000, batchSize: 500 });
  for (let i = 0; i < 5000; i++) sink.write(result(`C${i}`, i));
  await sink.commit();
  const values = await redis.mget(Array.from({ length: 5000 }, (_, i) => `${prefix}:C${i}`));
  expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
  await sink.close();
});

test('dataType hash stores every field of the latest result as a hash, replaced whole, with the TTL', async () => {
  const sink = new RedisSink({ url: url(), key: `${prefix}:{customer_id}`, dataType: 'hash', ttlMs: 60_000 });
  await redis.set(`${prefix}:C1`, 'a string from before');
  sink.write({ value: { customer_id: 'C1', txn_count: 1, extra: 'only in the first' }, timestamp: 0 });
  await sink.commit();
  sink.write({ value: { customer_id: 'C1', txn_count: 2, txn_sum: 21.5, window_start: '2025-12-05T10:20:00.000Z', tags: ['a'], none: null }, timestamp: 0 });
  await sink.close();
  expect(await redis.hgetall(`${prefix}:C1`)).toEqual({
    customer_id: 'C1',
    txn_count: '2',
    txn_sum: '21.5',
    window_start: '2025-12-05T10:20:00.000Z',
    tags: '["a"]',
    none: 'null',
  });
  expect(await redis.pttl(`${prefix}:C1`)).toBeGreaterThan(0);
  expect(() => new RedisSink({ url: url(), key: 'k', dataType: 'hash', valueField: 'txn_count' })).toThrow('leave out valueField, or use dataType string');
});

test('a client passed in is used and left open', async () => {
  const client = new Redis(url());
  const sink = new RedisSink({ client, key: `${prefix}:{customer_id}`, valueField: 'txn_count' });
  sink.write(result('C1', 1));
  await sink.close();
  expect(await client.get(`${prefix}:C1`)).toBe('1');
  await client.quit();
});

test('bad options are refused with what to write', () => {
  expect(() => new RedisSink({ url: url(), key: 'f:{customer_id' })).toThrow('is not closed');
  expect(() => new RedisSink({ url: url(), key: 'k', ttlMs: 0 })).toThrow('use a positive whole number of milliseconds');
  expect(() => new RedisSink({ key: 'k' })).toThrow('redis sink needs a url');
});

test('a failed commit keeps its results, and the next commit writes them', async () => {
  // Not yet connected and without an offline queue, the client fails the first commit at once (and starts connecting).
  const client = new Redis(url(), { lazyConnect: true, enableOfflineQueue: false });
  const sink = new RedisSink({ client, key: `${prefix}:{customer_id}`, valueField: 'txn_count', timeouts: { attempts: 1 } });
  sink.write(result('C1', 1));
  await expect(sink.commit()).rejects.toThrow('the results are kept for the next commit');
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  sink.write(result('C2', 2));
  await sink.commit();
  expect(await redis.mget(`${prefix}:C1`, `${prefix}:C2`)).toEqual(['1', '2']);
  await client.quit();
});

test('a commit to an unreachable Redis fails with its address, and close lets go of it', async () => {
  const sink = new RedisSink({ url: 'redis://127.0.0.1:1', key: `${prefix}:{customer_id}` });
  sink.write(result('C1', 1));
  await expect(sink.commit()).rejects.toThrow(
    'redis sink: writing to 127.0.0.1:1 failed 3 times (connect ECONNREFUSED 127.0.0.1:1); check that Redis at 127.0.0.1:1 is up and reachable',
  );
  await expect(sink.close()).rejects.toThrow('127.0.0.1:1');
});

test('a commit to a frozen Redis times out naming its address, and once Redis answers the next commit writes the results', async () => {
  // A Redis of this test's own: SIGSTOP keeps its connections open and answers nothing, as a hung host does.
  const frozen = await startPrivateRedis();
  const address = frozen.url.replace('redis://', '');
  const sink = new RedisSink({ url: frozen.url, key: `${prefix}:{customer_id}`, valueField: 'txn_count', timeouts: { commandMs: 200, attempts: 2 } });
  const reader = new Redis(frozen.url);
  try {
    sink.write(result('C1', 1));
    await sink.commit();
    frozen.freeze();
    sink.write(result('C1', 2));
    await expect(sink.commit()).rejects.toThrow(
      `redis sink: writing to ${address} failed 2 times (a write failed: Command timed out); Redis took longer than 200 ms to answer: check that Redis at ${address} is up`,
    );
    frozen.thaw();
    await sink.commit();
    expect(await reader.get(`${prefix}:C1`)).toBe('2');
  } finally {
    frozen.thaw();
    await sink.close();
    reader.disconnect();
    await frozen.stop();
  }
});
