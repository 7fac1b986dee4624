// GDPR erasure on the real servers: the fraud job with Kafka, Redis and PostgreSQL sinks erases 3 customers named on its
// erasure topic; then no store, changelog or sink holds them, the others are intact, and an erased customer's next
// transaction counts from zero.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RocksDbStore, type FetchedMessage } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  fraudJobSpec,
  kafka,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
  type RuntimeProcess,
} from './kafka/harness.js';

const endpoints = readEndpoints();
const brokers = endpoints.kafka.brokers;
const RUN_TIMEOUT_MS = 240_000;

const name = uniqueName('erasure');
const input = `${name}-transactions`;
const erasures = `${name}-erasures`;
const output = `${name}-features`;
const schema = `erasure_${randomBytes(4).toString('hex')}`;
const redisPrefix = `${name}:`;
const customers = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const erased = ['c1', 'c3', 'c5'];
const kept = ['c0', 'c2', 'c4'];
const T = Date.parse('2025-12-05T10:00:00Z');
const at = (minutes: number, seconds = 0): string => new Date(T + minutes * 60_000 + seconds * 1000).toISOString();

function jobSpec(): Record<string, unknown> {
  const spec = fraudJobSpec({ input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` });
  spec.sinks = [
    ...(spec.sinks as unknown[]),
    { name: 'features-redis', redis: { key: `${redisPrefix}{customer_id}` } },
    { name: 'features-table', postgres: { table: `${schema}.customer_velocity`, keyColumns: ['customer_id', 'window_start'] } },
  ];
  spec.erasure = { topic: erasures };
  return spec;
}

async function produce(topic: string, messages: { key: string; value: string | null; partition?: number }[]): Promise<void> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Transactions keyed by customer (the source's keyedBy), so each customer's records go to one partition. */
const transactions = (rows: [customer: string, time: string][]) =>
  produce(
    input,
    rows.map(([customer, timestamp], i) => ({
      key: customer,
      value: JSON.stringify({ transaction_id: `${customer}-${timestamp}-${i}`, customer_id: customer, amount: 10, timestamp }),
    })),
  );

/** A transaction of customer cz at `time` in each partition: it moves both partitions' watermarks on (each has its own). */
const advanceTo = (time: string) =>
  produce(
    input,
    [0, 1].map((partition) => ({
      key: 'cz',
      partition,
      value: JSON.stringify({ transaction_id: `cz-${time}-${partition}`, customer_id: 'cz', amount: 1, timestamp: time }),
    })),
  );

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The latest message per key of a topic: a tombstone shows as null. */
function latestPerKey(messages: readonly FetchedMessage[]): Map<string, string | null> {
  const latest = new Map<string, string | null>();
  for (const message of [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    latest.set(message.key?.toString('utf8') ?? '', message.value === null ? null : message.value.toString('utf8'));
  }
  return latest;
}

const startsWithCustomer = (key: string, customer: string): boolean => key.startsWith(`["${customer}"]`) || key === customer;

let db: pg.Client;
let redis: Redis;
let runtime: RuntimeProcess;
let stateDir: string;

beforeAll(async () => {
  db = new pg.Client({ connectionString: endpoints.postgres.url });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(
    `CREATE TABLE ${schema}.customer_velocity (customer_id text, window_start timestamptz, window_end timestamptz, txn_count bigint, txn_sum double precision, PRIMARY KEY (customer_id, window_start))`,
  );
  redis = new Redis(endpoints.redis.url);
  await createTopics(brokers, [input], 2);
  await createTopics(brokers, [erasures, output, `${name}-late`, `${name}-dead-letter`], 1);
}, RUN_TIMEOUT_MS);

afterAll(async () => {
  runtime?.child.kill('SIGKILL');
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  removeScratchDirs();
});

const rowsOf = async (customer: string): Promise<{ window_start: Date; txn_count: string }[]> =>
  (
    await db.query<{ window_start: Date; txn_count: string }>(
      `SELECT window_start, txn_count FROM ${schema}.customer_velocity WHERE customer_id = $1 ORDER BY window_start`,
      [customer],
    )
  ).rows;

describe('GDPR erasure through spec.erasure', () => {
  let logged: Record<string, unknown>[] = [];

  it(
    'erases 3 customers from the window state, its changelog, Redis, PostgreSQL and the Kafka features; the others stay; a new transaction counts from zero',
    async () => {
      stateDir = scratchDir('state');
      const runtimeEnv = {
        SLUICE_JOB_FILE: writeJobFile(name, jobSpec()),
        SLUICE_KAFKA_BROKERS: brokers.join(','),
        SLUICE_STATE_DIR: stateDir,
        SLUICE_REDIS_URL: endpoints.redis.url,
        SLUICE_POSTGRES_URL: endpoints.postgres.url,
      };
      runtime = startRuntime(runtimeEnv);
      await runtime.waitForEvents('listening', 1);
      // Window [10:00, 10:05): 2 each; window [10:05, 10:10): 1 each, still open; cz's record at 10:06:40 fires and drops the first.
      await transactions(
        customers.flatMap(
          (c) =>
            [
              [c, at(1)],
              [c, at(2)],
              [c, at(6)],
            ] as [string, string][],
        ),
      );
      await advanceTo(at(6, 40));
      await until('every customer in the table', async () => {
        const { rows } = await db.query(`SELECT DISTINCT customer_id FROM ${schema}.customer_velocity`);
        return rows.length >= customers.length ? rows : undefined;
      });
      const before = await until("c3's features in Redis", async () => (await redis.get(`${redisPrefix}c3`)) ?? undefined);
      expect(JSON.parse(before)).toMatchObject({ txn_count: 2 });

      await produce(
        erasures,
        erased.map((customer) => ({ key: customer, value: null })),
      );
      await runtime.waitForEvents('erased', erased.length);
      await until('the erased rows deleted', async () => ((await rowsOf('c3')).length === 0 ? true : undefined));
      // After the erasure: one more transaction of c1 (erased) and of c2 (kept) in the open window, then cz's at 10:11 fires it.
      await transactions([
        ['c1', at(7)],
        ['c2', at(7)],
      ]);
      await advanceTo(at(11));
      await until("every kept customer's second window in the table", async () => {
        for (const customer of kept) if ((await rowsOf(customer)).length < 2) return undefined;
        return true;
      });
      const listening = runtime.events.find((event) => event.event === 'listening') as { port: number };
      const metrics = await (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
      expect(metrics).toMatch(/^sluice_erasures_applied_total\{[^}]*\} 3$/m);
      runtime.child.kill('SIGTERM');
      await runtime.exitsWith(0);
      logged = runtime.events.filter((event) => event.event === 'erased');

      // Sinks: none of the erased customers' old figures; c1's new window counts its one transaction after the erasure.
      for (const customer of ['c3', 'c5']) {
        expect(await rowsOf(customer)).toEqual([]);
        expect(await redis.exists(`${redisPrefix}${customer}`)).toBe(0);
      }
      expect((await rowsOf('c1')).map((row) => [row.window_start.toISOString(), Number(row.txn_count)])).toEqual([[at(5), 1]]);
      expect(JSON.parse((await redis.get(`${redisPrefix}c1`))!)).toMatchObject({ window_start: at(5), txn_count: 1 });
      for (const customer of kept) expect((await rowsOf(customer)).length).toBe(2);
      expect(JSON.parse((await redis.get(`${redisPrefix}c2`))!)).toMatchObject({ window_start: at(5), txn_count: 2 });

      // The Kafka features: the latest message of each erased customer without a later result is a tombstone.
      const features = latestPerKey(await readCommitted(brokers, output));
      expect(features.get('c3')).toBeNull();
      expect(features.get('c5')).toBeNull();
      expect(JSON.parse(features.get('c1')!)).toMatchObject({ txn_count: 1 });
      for (const customer of kept) expect(features.get(customer)).not.toBeNull();

      // The changelog, after the job's last commit: every state key of c3 and c5 ends with a tombstone; kept ones hold values.
      const admin = kafka(brokers).admin();
      await admin.connect();
      const changelogs = (await admin.listTopics()).filter((topic) => topic.startsWith(`${name}-`) && topic.endsWith('-changelog'));
      await admin.disconnect();
      expect(changelogs).toHaveLength(1);
      const changelog = latestPerKey(await readCommitted(brokers, changelogs[0]!));
      for (const customer of ['c3', 'c5']) {
        const keys = [...changelog.keys()].filter((key) => startsWithCustomer(key, customer));
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.map((key) => changelog.get(key))).toEqual(keys.map(() => null));
      }
      for (const customer of kept) expect([...changelog].some(([key, value]) => startsWithCustomer(key, customer) && value !== null)).toBe(true);

      // The pod's store, opened after it stopped: no key of c3 or c5; the kept customers' open windows are there.
      const store = await RocksDbStore.open(join(stateDir, name));
      const operatorId = changelogs[0]!.slice(name.length + 1, -'-changelog'.length);
      const stored = [0, 1].flatMap((partition) => [...store.view({ operatorId, partition }).scan()].map(([key]) => key));
      await store.close();
      for (const customer of ['c3', 'c5']) expect(stored.filter((key) => startsWithCustomer(key, customer))).toEqual([]);
      for (const customer of kept) expect(stored.some((key) => startsWithCustomer(key, customer))).toBe(true);

      // A new pod on an empty folder restores from the changelog alone: it holds none of the erased customers either, and
      // applies no erasure again (each task's erasure position was committed with its offsets).
      const restoredDir = scratchDir('state');
      const restarted = startRuntime({ ...runtimeEnv, SLUICE_STATE_DIR: restoredDir });
      runtime = restarted;
      await restarted.waitForEvents('listening', 1);
      await until('the restarted pod ready', async () => ((await restarted.request('GET', '/readyz')).status === 200 ? true : undefined));
      restarted.child.kill('SIGTERM');
      await restarted.exitsWith(0);
      expect(restarted.events.filter((event) => event.event === 'erased')).toEqual([]);
      const restoredStore = await RocksDbStore.open(join(restoredDir, name));
      const restored = [0, 1].flatMap((partition) => [...restoredStore.view({ operatorId, partition }).scan()].map(([key]) => key));
      await restoredStore.close();
      for (const customer of ['c3', 'c5']) expect(restored.filter((key) => startsWithCustomer(key, customer))).toEqual([]);
      expect(restored.sort()).toEqual(stored.sort());

      // The log says which subject by its hash only (the events carry no customer id).
      expect(logged).toHaveLength(erased.length);
      for (const event of logged) expect(JSON.stringify(event)).not.toMatch(/"c[135]"/);
    },
    RUN_TIMEOUT_MS,
  );
});
