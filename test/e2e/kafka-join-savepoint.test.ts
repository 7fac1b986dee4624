// A stream–table join job on the real Kafka: a savepoint at parallelism 1 restored on 3 pods, with table updates between, gives the same results as one pod that only restarted; mis-partitioned tables are refused at start.
import type { RuntimeStatus, StopResponse } from '@sluice/crds';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
// Kafka's default partitioner, so the customers table lands where the generator put each customer's transactions.
import { partitionOf } from '../../runtime-image/src/connectors/partitioner.js';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
import {
  createTopics,
  endOffsets,
  kafka,
  multiset,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;
const token = 'test-token-of-this-run';

/** Ten minutes of event time each, B going on where A stops: windows open at the end of A close in B. */
const inputA = {
  workload: 'transactions',
  seed: 21,
  count: 6_000,
  keys: 300,
  rate: 10,
  disorder: 20_000,
  partitions: PARTITIONS,
  start: '2025-12-05T00:00:00Z',
} as const;
const inputB = { ...inputA, seed: 22, start: '2025-12-05T00:10:00Z' } as const;

type TableMessage = { key: string; value: Record<string, unknown> | null };

/**
 * The customers before A: C1…C300 gold, silver or no row by i mod 3; C1…C50 first written bronze, then updated; C290…C300
 * written, then deleted (tombstones). The merchants: M1…M2500 with a risk of i mod 10 (the generator's M2501…M5000
 * have no row, so the inner join drops their transactions).
 */
function tablesBeforeA(): { customers: TableMessage[]; merchants: TableMessage[] } {
  const customers: TableMessage[] = [];
  for (let i = 1; i <= 50; i++) customers.push({ key: `C${i}`, value: { tier: 'bronze' } });
  for (let i = 1; i <= 300; i++) if (i % 3 !== 2 || i >= 290) customers.push({ key: `C${i}`, value: { tier: i % 3 === 0 ? 'gold' : 'silver' } });
  for (let i = 290; i <= 300; i++) customers.push({ key: `C${i}`, value: null });
  const merchants = Array.from({ length: 2500 }, (_, i) => ({ key: `M${i + 1}`, value: { risk: (i + 1) % 10 } }));
  return { customers, merchants };
}

/** Between A and B: C1…C100 become platinum, C101…C120 are deleted, M1…M100 become risk 9. */
function tablesBetween(): { customers: TableMessage[]; merchants: TableMessage[] } {
  const customers: TableMessage[] = [];
  for (let i = 1; i <= 100; i++) customers.push({ key: `C${i}`, value: { tier: 'platinum' } });
  for (let i = 101; i <= 120; i++) customers.push({ key: `C${i}`, value: null });
  return { customers, merchants: Array.from({ length: 100 }, (_, i) => ({ key: `M${i + 1}`, value: { risk: 9 } })) };
}

/** Customers go to the partition of their transactions (co-partitioned); merchants round-robin over their 2 partitions. */
async function produceTables(
  topics: { customers: string; merchants: string },
  tables: { customers: TableMessage[]; merchants: TableMessage[] },
): Promise<void> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const encode = ({ key, value }: TableMessage) => ({ key, value: value === null ? null : JSON.stringify(value) });
    await producer.send({ topic: topics.customers, messages: tables.customers.map((m) => ({ ...encode(m), partition: partitionOf(m.key, PARTITIONS) })) });
    await producer.send({ topic: topics.merchants, messages: tables.merchants.map((m, i) => ({ ...encode(m), partition: i % 2 })) });
  } finally {
    await producer.disconnect();
  }
}

/** Transactions joined with their customer (left) and merchant (inner, broadcast), then per customer and 5 minutes: counts by tier and risk. */
function joinJob(name: string, topics: { input: string; customers: string; merchants: string }): { file: string; output: string } {
  const output = `${name}-out`;
  const spec = {
    sources: [
      {
        name: 'transactions',
        kafka: { topic: topics.input, keyedBy: 'customer_id' },
        format: 'json',
        eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' },
      },
      { name: 'customers', kafka: { topic: topics.customers } },
      { name: 'merchants', kafka: { topic: topics.merchants } },
    ],
    pipeline: [
      { id: 'with-customer', join: { with: 'customers', type: 'table', leftKey: 'customer_id', mode: 'left', into: 'customer' } },
      { id: 'with-merchant', join: { with: 'merchants', type: 'table', leftKey: 'merchant_id', into: 'merchant', broadcast: true } },
      { map: { fields: { customer_id: 'customer_id', amount: 'amount', tier: 'customer == null ? "none" : customer.tier', risky: 'merchant.risk >= 8.0' } } },
      { keyBy: { field: 'customer_id' } },
      {
        window: { type: 'tumbling', size: '5m' },
        aggregate: [
          { name: 'txn_count', fn: 'count' },
          { name: 'txn_sum', fn: 'sum', field: 'amount' },
          { name: 'tiers', fn: 'count_distinct', field: 'tier' },
          { name: 'platinum', fn: 'sum', expression: 'tier == "platinum" ? 1 : 0' },
          { name: 'none', fn: 'sum', expression: 'tier == "none" ? 1 : 0' },
          { name: 'risky', fn: 'sum', expression: 'risky ? 1 : 0' },
        ],
      },
    ],
    sinks: [{ name: 'out', kafka: { topic: output, key: '{customer_id}' } }],
    deadLetter: { topic: `${name}-dead-letter` },
  };
  return { file: writeJobFile(name, spec), output };
}

/** Starts one pod at parallelism 1, waits until it has read all of input A, and stops it (with a savepoint when asked). */
async function readAllOfA(env: Record<string, string>, endOfA: ReadonlyMap<number, number>, savepoint: boolean): Promise<StopResponse> {
  const pod = startRuntime(env);
  await pod.waitForEvents('listening', 1);
  await eventually(
    'the pod at parallelism 1 to have read all of input A',
    async () => {
      const status = (await pod.control('GET', '/status')) as RuntimeStatus;
      return status.partitions.length === PARTITIONS && status.partitions.every((p) => p.offset === endOfA.get(p.partition)) ? status : undefined;
    },
    120_000,
  );
  const stopped = (await pod.control('POST', `/stop?savepoint=${savepoint}`)) as StopResponse;
  pod.child.kill('SIGTERM');
  await pod.exitsWith(0);
  return stopped;
}

/** Orders o<i> one a second from 00:00, each shipped (i mod 13) minutes later; keyed by order id, co-partitioned; `end` adds the end markers. */
async function produceOrders(topics: { orders: string; shipments: string }, from: number, to: number, end: boolean): Promise<void> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const at = (ms: number) => new Date(Date.parse('2025-12-05T00:00:00Z') + ms).toISOString();
  const ids = Array.from({ length: to - from }, (_, i) => from + i);
  const marker = { value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } };
  try {
    await producer.send({
      topic: topics.orders,
      messages: ids.map((i) => ({ key: `o${i}`, partition: partitionOf(`o${i}`, PARTITIONS), value: JSON.stringify({ id: `o${i}`, ts: at(i * 1000) }) })),
    });
    await producer.send({
      topic: topics.shipments,
      messages: ids.map((i) => ({
        key: `o${i}`,
        partition: partitionOf(`o${i}`, PARTITIONS),
        value: JSON.stringify({ order: `o${i}`, ts: at(i * 1000 + (i % 13) * 60_000) }),
      })),
    });
    if (end)
      for (const topic of [topics.orders, topics.shipments])
        await producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ ...marker, partition })) });
  } finally {
    await producer.disconnect();
  }
}

/** Each order with its shipment when it ships within 10 minutes: an interval join [0, 10m]. */
function intervalJob(name: string, topics: { orders: string; shipments: string }): { file: string; output: string } {
  const output = `${name}-out`;
  const spec = {
    sources: [
      { name: 'orders', kafka: { topic: topics.orders, keyedBy: 'id' }, format: 'json', eventTime: { field: 'ts', maxOutOfOrderness: '1s' } },
      // Shipments come up to 12 minutes apart from their neighbours: none is late.
      { name: 'shipments', kafka: { topic: topics.shipments }, format: 'json', eventTime: { field: 'ts', maxOutOfOrderness: '15m' } },
    ],
    pipeline: [
      { id: 'shipped', join: { with: 'shipments', type: 'interval', leftKey: 'id', rightKey: 'order', lower: '0s', upper: '10m', into: 'shipment' } },
      { map: { fields: { id: 'id', shipped: 'shipment.ts' } } },
    ],
    sinks: [{ name: 'out', kafka: { topic: output, key: '{id}' } }],
  };
  return { file: writeJobFile(name, spec), output };
}

describe('a join job on Kafka', () => {
  afterAll(removeScratchDirs);

  it('restores a savepoint taken at parallelism 1 on 3 pods: table updates made meanwhile are applied once, and the results equal those of a pod that only restarted', async () => {
    const topics = { input: uniqueName('txn'), customers: uniqueName('customers'), merchants: uniqueName('merchants') };
    await createTopics(brokers, [topics.input, topics.customers], PARTITIONS);
    await createTopics(brokers, [topics.merchants], 2);
    const base = { SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_CONTROL_TOKEN: token, SLUICE_END_MARKERS: 'true' };

    // The tables, then input A without an end: each job reads the tables whole, then A, and stops.
    await produceTables(topics, tablesBeforeA());
    expect(await produceGenerated(brokers, topics.input, inputA, [], false)).toBe(inputA.count);
    const endOfA = await endOffsets(brokers, topics.input);
    const restarted = joinJob(uniqueName('join-restarted'), topics);
    const rescaled = joinJob(uniqueName('join-rescaled'), topics);
    const restartedEnv = { ...base, SLUICE_JOB_FILE: restarted.file, SLUICE_STATE_DIR: scratchDir('state') };
    const rescaledEnv = { ...base, SLUICE_JOB_FILE: rescaled.file, SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints') };
    await readAllOfA(restartedEnv, endOfA, false);
    const stopped = await readAllOfA({ ...rescaledEnv, SLUICE_STATE_DIR: scratchDir('state') }, endOfA, true);
    expect(stopped.savepoint?.complete).toBe(true);

    // Table updates, then input B and its end. One job restarts from its last commit; the other goes on at parallelism 3 from the savepoint.
    await produceTables(topics, tablesBetween());
    expect(await produceGenerated(brokers, topics.input, inputB)).toBe(inputB.count);
    await startRuntime(restartedEnv).exitsWith(0);
    const pods = [0, 1, 2].map((ordinal) =>
      startRuntime({
        ...rescaledEnv,
        SLUICE_STATE_DIR: scratchDir('state'),
        SLUICE_POD_ORDINAL: String(ordinal),
        SLUICE_PARALLELISM: '3',
        SLUICE_RESTORE_FROM: stopped.savepoint!.location,
      }),
    );
    for (const pod of pods) await pod.exitsWith(0);
    expect(pods.map((pod) => pod.events.find((e) => e.event === 'running')?.partitions)).toEqual([[0], [1], [2]]);

    const expected = multiset(await readCommitted(brokers, restarted.output));
    expect(multiset(await readCommitted(brokers, rescaled.output))).toEqual(expected);
    // The results show both versions of the tables: A's first window before the updates (no platinum), B's after them.
    type Result = { window_start: string; txn_count: number; platinum: number; none: number; risky: number };
    const results = expected.map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)) as Result);
    const sum = (field: keyof Omit<Result, 'window_start'>, from: string, to: string) =>
      results.filter((r) => r.window_start >= from && r.window_start < to).reduce((total, r) => total + r[field], 0);
    expect(sum('platinum', '2025-12-05T00:00', '2025-12-05T00:05')).toBe(0);
    expect(sum('platinum', '2025-12-05T00:10', '2025-12-05T01')).toBeGreaterThan(0);
    expect(sum('none', '2025-12-05T00:00', '2025-12-05T01')).toBeGreaterThan(0);
    expect(sum('risky', '2025-12-05T00:00', '2025-12-05T01')).toBeGreaterThan(0);
    // The merchants without a row drop about half the transactions (inner join).
    expect(sum('txn_count', '2025-12-05T00:00', '2025-12-05T01')).toBeLessThan(inputA.count + inputB.count);
  }, 300_000);

  it('an interval join: a savepoint at parallelism 1 restored on 3 pods gives each pair within [0, 10m] once, as a pod that only restarted', async () => {
    const topics = { orders: uniqueName('orders'), shipments: uniqueName('shipments') };
    await createTopics(brokers, [topics.orders, topics.shipments], PARTITIONS);
    const base = { SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_CONTROL_TOKEN: token, SLUICE_END_MARKERS: 'true' };
    await produceOrders(topics, 0, 300, false);
    const endOfA = await endOffsets(brokers, topics.orders);
    const restarted = intervalJob(uniqueName('interval-restarted'), topics);
    const rescaled = intervalJob(uniqueName('interval-rescaled'), topics);
    const restartedEnv = { ...base, SLUICE_JOB_FILE: restarted.file, SLUICE_STATE_DIR: scratchDir('state') };
    const rescaledEnv = { ...base, SLUICE_JOB_FILE: rescaled.file, SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints') };
    await readAllOfA(restartedEnv, endOfA, false);
    const stopped = await readAllOfA({ ...rescaledEnv, SLUICE_STATE_DIR: scratchDir('state') }, endOfA, true);
    expect(stopped.savepoint?.complete).toBe(true);

    await produceOrders(topics, 300, 600, true);
    await startRuntime(restartedEnv).exitsWith(0);
    const pods = [0, 1, 2].map((ordinal) =>
      startRuntime({
        ...rescaledEnv,
        SLUICE_STATE_DIR: scratchDir('state'),
        SLUICE_POD_ORDINAL: String(ordinal),
        SLUICE_PARALLELISM: '3',
        SLUICE_RESTORE_FROM: stopped.savepoint!.location,
      }),
    );
    for (const pod of pods) await pod.exitsWith(0);

    // Order i ships (i mod 13) minutes after it: within 10 minutes for i mod 13 ≤ 10, so 46 × 11 of the first 598 and both of 598 and 599.
    const expected = multiset(await readCommitted(brokers, restarted.output));
    expect(expected).toHaveLength(508);
    expect(new Set(expected).size).toBe(508);
    expect(multiset(await readCommitted(brokers, rescaled.output))).toEqual(expected);
  }, 300_000);

  it("refuses at start a co-partitioned table whose partition count is not the stream's, with both counts and the fix", async () => {
    const topics = { input: uniqueName('txn'), customers: uniqueName('customers'), merchants: uniqueName('merchants') };
    await createTopics(brokers, [topics.input], PARTITIONS);
    await createTopics(brokers, [topics.customers, topics.merchants], 2);
    const job = joinJob(uniqueName('join-refused'), topics);
    const runtime = startRuntime({
      SLUICE_JOB_FILE: job.file,
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
    });
    await runtime.exitsWith(1);
    expect(runtime.events.find((event) => event.event === 'failed')?.error).toContain(
      `the join with-customer reads the table ${topics.customers} co-partitioned with the stream, but it has 2 partition(s) and the stream 3: ` +
        'task p holds table partition p, so give both topics the same partition count (and key both by the join key), or set broadcast: true on the join for a table every task holds whole',
    );
  }, 60_000);
});
