// The test environment's Redis: what the feature-store sink needs, through ioredis as the engine uses it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readEndpoints } from './src/endpoints.js';

const redis = new Redis(readEndpoints().redis.url, { lazyConnect: true });
const prefix = `redis-test-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await redis.connect();
});

afterAll(async () => {
  await redis.del(`${prefix}:feature`, `${prefix}:count`, `${prefix}:sum`);
  await redis.quit();
});

describe('the Redis server', () => {
  test('keeps a value with a TTL', async () => {
    const key = `${prefix}:feature`;
    expect(await redis.set(key, '{"count":3}', 'EX', 300)).toBe('OK');

    expect(await redis.get(key)).toBe('{"count":3}');
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  test('applies a MULTI/EXEC transaction as a whole', async () => {
    const results = await redis.multi().incrby(`${prefix}:count`, 2).incrby(`${prefix}:count`, 3).set(`${prefix}:sum`, '42.5').exec();

    expect(results).toEqual([
      [null, 2],
      [null, 5],
      [null, 'OK'],
    ]);
    expect(await redis.mget(`${prefix}:count`, `${prefix}:sum`)).toEqual(['5', '42.5']);
  });
});
