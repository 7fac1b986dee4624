// Erasure in the sinks on the real Redis and PostgreSQL of the test environment: deletes keep their order with the writes
// of the same commit, and a sink whose keys use another field says it cannot erase.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import { PostgresSink } from '../connectors/postgres/sink.js';
import { RedisSink } from '../connectors/redis/sink.js';
import type { SinkRecord } from '../connectors/sink.js';

const endpoints = readEndpoints();
const result = (customer: string, count: number, windowStart: string): SinkRecord => ({
  value: { customer_id: customer, window_start: windowStart, txn_count: count },
  timestamp: 0,
});

describe('PostgreSQL sink erase', () => {
  let client: pg.Client;
  let table: string;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: endpoints.postgres.url });
    await client.connect();
    table = `erasure_${randomBytes(4).toString('hex')}`;
    await client.query(`CREATE TABLE ${table} (customer_id text, window_start timestamptz, txn_count bigint, PRIMARY KEY (customer_id, window_start))`);
  });
  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
  });

  it("deletes every row of the subject written before the erasure, committed or buffered, and keeps the rows after it and other subjects'", async () => {
    const sink = new PostgresSink({ url: endpoints.postgres.url, table, keyColumns: ['customer_id', 'window_start'] });
    try {
      sink.write(result('c1', 2, '2025-12-05T10:00:00Z'));
      sink.write(result('c2', 2, '2025-12-05T10:00:00Z'));
      await sink.commit();
      sink.write(result('c1', 3, '2025-12-05T10:05:00Z'));
      expect(sink.erase('customer_id', 'c1')).toBe(true);
      sink.write(result('c1', 1, '2025-12-05T10:10:00Z'));
      await sink.commit();
      const { rows } = await client.query<{ customer_id: string; txn_count: string }>(
        `SELECT customer_id, txn_count FROM ${table} ORDER BY customer_id, window_start`,
      );
      expect(rows.map((row) => `${row.customer_id} ${row.txn_count}`)).toEqual(['c1 1', 'c2 2']);
      expect(sink.erase('merchant_id', 'c1')).toBe(false);
    } finally {
      await sink.close();
    }
  });
});

describe('Redis sink erase', () => {
  const prefix = `erasure-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(endpoints.redis.url);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('DELs the key the template renders for the subject, in order with the writes around it', async () => {
    const sink = new RedisSink({ url: endpoints.redis.url, key: `${prefix}:{customer_id}`, valueField: 'txn_count' });
    try {
      sink.write(result('c1', 2, 'w0'));
      sink.write(result('c2', 2, 'w0'));
      sink.write(result('c3', 2, 'w0'));
      await sink.commit();
      expect(sink.erase('customer_id', 'c1')).toBe(true);
      expect(sink.erase('customer_id', 'c3')).toBe(true);
      sink.write(result('c3', 1, 'w1'));
      await sink.commit();
      expect(await redis.mget(`${prefix}:c1`, `${prefix}:c2`, `${prefix}:c3`)).toEqual([null, '2', '1']);
    } finally {
      await sink.close();
    }
  });

  it('cannot erase under a template that uses another field too, and says so', async () => {
    const sink = new RedisSink({ url: endpoints.redis.url, key: `${prefix}:{customer_id}:{window_start}` });
    try {
      expect(sink.erase('customer_id', 'c1')).toBe(false);
    } finally {
      await sink.close();
    }
  });
});
