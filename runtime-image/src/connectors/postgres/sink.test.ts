// The PostgreSQL sink on the real PostgreSQL of the test environment: upserts by key, replays, the table checked at start, dead letters.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readEndpoints } from '../../../../test/env/src/endpoints.js';
import type { SinkRecord } from '../sink.js';
import { PostgresSink } from './sink.js';

const url = (): string => readEndpoints().postgres.url;
let client: pg.Client;
let table: string;

beforeAll(async () => {
  client = new pg.Client({ connectionString: url() });
  await client.connect();
});
afterAll(async () => {
  await client.end();
});
beforeEach(async () => {
  table = `velocity_${randomBytes(4).toString('hex')}`;
  await client.query(
    `CREATE TABLE ${table} (customer_id text, window_start timestamptz, window_end timestamptz, txn_count bigint NOT NULL, txn_sum double precision, PRIMARY KEY (customer_id, window_start))`,
  );
});
afterEach(async () => {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
});

const result = (customer: string, count: number, windowStart = '2025-12-05T10:20:00.000Z'): SinkRecord => ({
  value: { customer_id: customer, window_start: windowStart, window_end: '2025-12-05T10:25:00.000Z', txn_count: count, txn_sum: count * 10.5 },
  timestamp: Date.parse('2025-12-05T10:24:59.999Z'),
});

async function rows(): Promise<string[]> {
  const { rows } = await client.query<{ customer_id: string; window_start: Date; txn_count: string; txn_sum: number }>(
    `SELECT customer_id, window_start, txn_count, txn_sum FROM ${table} ORDER BY customer_id, window_start`,
  );
  return rows.map((row) => `${row.customer_id} ${row.window_start.toISOString()} ${row.txn_count} ${row.txn_sum}`);
}

test('writes nothing before commit, then upserts each result by its key columns', async () => {
  const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'] });
  expect(sink.write(result('C123', 3))).toBeUndefined();
  expect(await rows()).toEqual([]);
  await sink.commit();
  expect(await rows()).toEqual(['C123 2025-12-05T10:20:00.000Z 3 31.5']);
  await sink.close();
});

test('a re-fired window replaces its row; replaying the same results leaves the same table', async () => {
  const results = [result('C1', 1), result('C2', 5), result('C1', 2), result('C1', 3, '2025-12-05T10:25:00.000Z')];
  const first = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'] });
  // The first firing of C1's window is committed on its own; its update arrives in a later commit and again twice in one.
  first.write(results[0]!);
  await first.commit();
  for (const r of results.slice(1)) first.write(r);
  first.write(result('C1', 2));
  await first.close();
  const before = await rows();
  expect(before).toEqual(['C1 2025-12-05T10:20:00.000Z 2 21', 'C1 2025-12-05T10:25:00.000Z 3 31.5', 'C2 2025-12-05T10:20:00.000Z 5 52.5']);

  const replay = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'] });
  for (const r of results) replay.write(r);
  await replay.close();
  expect(await rows()).toEqual(before);
});

test('maps columns from the result and quotes names, so a mixed-case column is written as it is named', async () => {
  const mapped = `${table}_mapped`;
  await client.query(`CREATE TABLE ${mapped} ("customerId" text PRIMARY KEY, "count of txns" bigint, detail jsonb)`);
  try {
    const sink = new PostgresSink({
      url: url(),
      table: `public.${mapped}`,
      keyColumns: ['customerId'],
      columns: [
        { name: 'customerId', value: (r) => r.customer_id },
        { name: 'count of txns', value: (r) => r.txn_count },
        { name: 'detail', value: (r) => ({ sum: r.txn_sum, tags: ['velocity'] }) },
      ],
    });
    sink.write(result('C9', 4));
    await sink.close();
    const { rows: written } = await client.query(`SELECT * FROM ${mapped}`);
    expect(written).toEqual([{ customerId: 'C9', 'count of txns': '4', detail: { sum: 42, tags: ['velocity'] } }]);
  } finally {
    await client.query(`DROP TABLE ${mapped}`);
  }
});

test('a result without a key column’s field, or whose column value cannot be computed, goes to dead letters with the reason', async () => {
  const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'] });
  const keyless = { value: { window_start: '2025-12-05T10:20:00.000Z', txn_count: 1 }, timestamp: 0 };
  expect(sink.write(keyless)).toEqual({
    record: keyless,
    reason: `postgres sink ${table}: the result has no value for the key column customer_id; add the field customer_id to the result, or map it with columns:`,
  });
  await sink.close();

  const computed = new PostgresSink({
    url: url(),
    table,
    keyColumns: ['customer_id', 'window_start'],
    columns: [
      { name: 'customer_id', value: (r) => r.customer_id },
      { name: 'window_start', value: (r) => r.window_start },
      {
        name: 'txn_count',
        value: () => {
          throw new Error('no such key: count');
        },
      },
    ],
  });
  expect(computed.write(result('C1', 1))?.reason).toBe(`postgres sink ${table}: column txn_count: no such key: count`);
  await computed.close();
  expect(await rows()).toEqual([]);
});

describe('the table, checked at start and again before the first write', () => {
  it('fails at start, before any result, when a key column is missing, with the ALTER TABLE to run', async () => {
    const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_begin'] });
    await expect(sink.start()).rejects.toThrow(
      `postgres sink: the table ${table} has no column window_begin for the key column window_begin; add it (ALTER TABLE "${table}" ADD COLUMN "window_begin" TYPE), or change keyColumns (at 127.0.0.1:`,
    );
    await sink.close();
  });

  it('starts when the table fits', async () => {
    const sink = new PostgresSink({ url: url(), table, keyColumns: ['window_start', 'customer_id'] });
    await expect(sink.start()).resolves.toBeUndefined();
    await sink.close();
  });

  it('fails when the table does not exist, with a CREATE TABLE to start from', async () => {
    const sink = new PostgresSink({ url: url(), table: `${table}_absent`, keyColumns: ['customer_id', 'window_start'] });
    sink.write(result('C1', 1));
    await expect(sink.commit()).rejects.toThrow(
      `postgres sink: the table ${table}_absent does not exist; create it, for example CREATE TABLE "${table}_absent" ("customer_id" TYPE, "window_start" TYPE, …, PRIMARY KEY ("customer_id", "window_start"))`,
    );
    await expect(sink.close()).rejects.toMatchObject({ code: 'SLUICE_E_POSTGRES_TABLE', retriable: false });
  });

  it('fails on a result field with no column, naming the table, the column and the ALTER TABLE', async () => {
    await client.query(`ALTER TABLE ${table} DROP COLUMN txn_sum`);
    const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'] });
    sink.write(result('C1', 1));
    await expect(sink.commit()).rejects.toThrow(
      `postgres sink: the table ${table} has no column txn_sum for the result's field txn_sum; add it (ALTER TABLE "${table}" ADD COLUMN "txn_sum" double precision), or name the columns to write with columns: (column: CEL expression) in the sink`,
    );
    await expect(sink.close()).rejects.toThrow('has no column txn_sum');
    expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }]);
  });

  it('fails when no primary key or unique index is on exactly the key columns', async () => {
    const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id'] });
    sink.write(result('C1', 1));
    await expect(sink.commit()).rejects.toThrow(
      `the table ${table} has no primary key or unique index on exactly (customer_id), which an upsert needs to find a result's row; add one (ALTER TABLE "${table}" ADD PRIMARY KEY ("customer_id"), or CREATE UNIQUE INDEX ON "${table}" ("customer_id")), or set keyColumns to the columns of an existing one`,
    );
    await expect(sink.close()).rejects.toThrow('no primary key');
  });

  it('fails at once, without retrying, when PostgreSQL refuses a row, and keeps the rows for the next commit', async () => {
    const sink = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'], timeouts: { attempts: 3 } });
    sink.write({ value: { customer_id: 'C1', window_start: 'not a time', txn_count: 1 }, timestamp: 0 });
    sink.write(result('C2', 2));
    await expect(sink.commit()).rejects.toThrow(
      new RegExp(
        `^postgres sink: upserting into ${table} at 127\\.0\\.0\\.1:\\d+/sluice failed \\(invalid input syntax for type timestamp with time zone: "not a time"\\); PostgreSQL refused the rows, so retrying will not help`,
      ),
    );
    // Nothing of the commit is in the table: its rows went in one transaction.
    expect(await rows()).toEqual([]);
    await expect(sink.close()).rejects.toMatchObject({ code: 'SLUICE_E_POSTGRES_REFUSED', retriable: false });
  });
});

describe('the fence between a pod and its replacement', () => {
  const writer = (): string => `test.fraud/0/${table}`;

  afterEach(async () => {
    await client.query('DELETE FROM sluice_sink_fences WHERE writer = $1', [writer()]);
  });

  it('stops the older sink of a writer once a newer one started: its commit writes nothing', async () => {
    const zombie = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'], writer: writer() });
    await zombie.start();
    zombie.write(result('C1', 1));
    await zombie.commit();

    const replacement = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'], writer: writer() });
    await replacement.start();
    replacement.write(result('C1', 3));
    await replacement.commit();
    // The zombie wakes with an older firing of the same window: refused, so the row keeps the replacement's figures.
    zombie.write(result('C1', 2));
    await expect(zombie.commit()).rejects.toThrow(
      `postgres sink: a newer pod took over the writer ${writer()} (its token in sluice_sink_fences is not this pod's): this pod is a zombie of a replaced one, so its rows are not written; it stops, and the newer pod goes on`,
    );
    expect(await rows()).toEqual(['C1 2025-12-05T10:20:00.000Z 3 31.5']);
    await expect(zombie.close()).rejects.toMatchObject({ code: 'SLUICE_E_POSTGRES_FENCED', retriable: false });
    await replacement.close();
  });

  it('lets a zombie’s commit already under way finish first: the takeover waits for it, so the replacement’s rows come after', async () => {
    const zombie = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'], writer: writer() });
    await zombie.start();
    // The zombie's transaction holds the writer's row (as a commit does between its check and COMMIT).
    const held = new pg.Client({ connectionString: url() });
    await held.connect();
    await held.query('BEGIN');
    await held.query('SELECT 1 FROM sluice_sink_fences WHERE writer = $1 FOR UPDATE', [writer()]);
    const replacement = new PostgresSink({ url: url(), table, keyColumns: ['customer_id', 'window_start'], writer: writer() });
    let started = false;
    const starting = replacement.start().then(() => (started = true));
    // The takeover waits on the row lock until the holder commits.
    const waiting = async (): Promise<number> =>
      (
        await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "sluice_sink_fences"%'`,
        )
      ).rows[0]!.n;
    while ((await waiting()) === 0) await client.query('SELECT pg_sleep(0.01)');
    expect(started).toBe(false);
    await held.query('COMMIT');
    await held.end();
    await starting;
    expect(started).toBe(true);
    await zombie.close();
    await replacement.close();
  });
});
