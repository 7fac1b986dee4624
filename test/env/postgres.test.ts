// The test environment's PostgreSQL: the idempotent upsert the PostgreSQL sink relies on, through pg as the engine uses it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readEndpoints } from './src/endpoints.js';

const client = new pg.Client({ connectionString: readEndpoints().postgres.url });
const table = `postgres_test_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await client.connect();
  await client.query(`create table ${table} (customer text, window_end timestamptz, count bigint not null, primary key (customer, window_end))`);
});

afterAll(async () => {
  await client.query(`drop table if exists ${table}`);
  await client.end();
});

describe('the PostgreSQL server', () => {
  test('upserts by key, so a replay rewrites the row instead of adding one', async () => {
    const upsert = `insert into ${table} (customer, window_end, count) values ($1, $2, $3)
                    on conflict (customer, window_end) do update set count = excluded.count`;
    const windowEnd = '2026-01-01T00:05:00Z';
    await client.query(upsert, ['c-1', windowEnd, 3]);
    await client.query(upsert, ['c-1', windowEnd, 4]);

    const { rows } = await client.query<{ customer: string; window_end: Date; count: string }>(`select customer, window_end, count from ${table}`);
    expect(rows).toEqual([{ customer: 'c-1', window_end: new Date(windowEnd), count: '4' }]);
  });

  test('drops the table', async () => {
    await client.query(`drop table ${table}`);

    const { rows } = await client.query<{ found: string | null }>('select to_regclass($1) as found', [table]);
    expect(rows).toEqual([{ found: null }]);
  });
});
