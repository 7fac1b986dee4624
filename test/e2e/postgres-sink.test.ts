// The PostgreSQL sink on the real servers: streamctl run of the example fills its table with each window's final figures, and
// a Kafka job killed -9 mid-stream, twice, leaves the table equal to an uninterrupted run's.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildCli, streamctl } from '../cli/cli.js';
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  fraudJobSpec,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
  killAfterCommits,
} from './kafka/harness.js';

const endpoints = readEndpoints();
/** How long a hook or test that runs the job from start to end may take before it counts as hung. */
const RUN_TIMEOUT_MS = 300_000;
const brokers = endpoints.kafka.brokers;
const example = (file: string): string => new URL(`../../examples/fraud-velocity/${file}`, import.meta.url).pathname;
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: endpoints.postgres.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  removeScratchDirs();
});

interface Row {
  customer_id: string;
  window_start: Date;
  window_end: Date;
  txn_count: string;
  txn_sum: number;
}

/** The table's rows as the results' JSON lines, sorted: customer, window start, then the figures. */
async function tableAsResults(table: string): Promise<string[]> {
  const { rows } = await client.query<Row>(`SELECT * FROM ${table} ORDER BY customer_id, window_start`);
  return rows.map((row) =>
    JSON.stringify({
      customer_id: row.customer_id,
      window_start: row.window_start.toISOString(),
      window_end: row.window_end.toISOString(),
      txn_count: Number(row.txn_count),
      txn_sum: row.txn_sum,
    }),
  );
}

/** Of each window's firings, the last: what a table upserted by customer and window start ends with. */
function lastFirings(results: readonly Record<string, unknown>[]): string[] {
  const last = new Map<string, Record<string, unknown>>();
  for (const result of results) last.set(`${String(result.customer_id)} ${String(result.window_start)}`, result);
  return [...last.keys()].sort().map((key) => JSON.stringify(last.get(key)));
}

describe('streamctl run with the PostgreSQL sink', () => {
  const schema = `streamctl_${randomBytes(4).toString('hex')}`;
  // The example names the table customer_velocity; the URL's search_path puts it in this test's own schema.
  const url = `${endpoints.postgres.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

  // Compiling the CLI (tsc -b) alone can take over a minute on a loaded machine.
  beforeAll(async () => {
    buildCli();
    await client.query(`CREATE SCHEMA ${schema}`);
  }, RUN_TIMEOUT_MS);
  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('refuses to start without the table, naming it and what to create', () => {
    const ran = streamctl(['run', example('job-postgres.yaml'), '--input', example('sample.jsonl'), '--postgres', url, '--output', '/dev/null']);
    expect(ran.stderr).toContain('postgres sink: the table customer_velocity does not exist; create it, for example CREATE TABLE "customer_velocity"');
    expect(ran.status).not.toBe(0);
  });

  it('upserts the example’s windows: the table holds each window’s last firing, the re-fired one included', async () => {
    await client.query(`SET search_path = ${schema}`);
    await client.query(readFileSync(example('postgres.sql'), 'utf8'));
    await client.query('SET search_path = public');

    const ran = streamctl(['run', example('job-postgres.yaml'), '--input', example('sample.jsonl'), '--postgres', url, '--output', '/dev/null']);
    expect(ran.stderr).toContain('12 results out');
    expect(ran.status).toBe(0);

    const expected = readFileSync(example('expected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // C123's first window fired with 4 transactions and re-fired with 5: the row holds 5.
    expect(lastFirings(expected)).toHaveLength(11);
    expect(await tableAsResults(`${schema}.customer_velocity`)).toEqual(lastFirings(expected));
  });
});

describe('a Kafka job with the PostgreSQL sink, killed -9 mid-stream', () => {
  const PARTITIONS = 3;
  /** 12 000 events over 10 minutes of event time, 2 % of them 40 s late: within the minute of allowedLateness, so windows re-fire. */
  const workload = {
    workload: 'transactions',
    seed: 11,
    count: 12_000,
    batchSize: 100,
    keys: 200,
    rate: 20,
    disorder: 20_000,
    lateFraction: 0.02,
    lateBy: 40_000,
    partitions: PARTITIONS,
  } as const;
  const input = uniqueName('txn-pg');
  const tables: string[] = [];

  /** The fraud job on `input` with a Kafka sink and a PostgreSQL sink into a table of its own (created here). */
  /** The fraud job with the PostgreSQL sink on a new table; `commitInterval` replaces the job's 100 ms. */
  async function job(name: string, commitInterval?: string): Promise<{ env: Record<string, string>; table: string; output: string }> {
    const table = `velocity_${name.replaceAll('-', '_')}`;
    await client.query(`CREATE TABLE ${table} (LIKE public.velocity_template_${suffix} INCLUDING ALL)`);
    tables.push(table);
    const output = `${name}-features`;
    const spec = fraudJobSpec({ input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` });
    (spec.sinks as unknown[]).push({ name: 'velocity-table', postgres: { table, keyColumns: ['customer_id', 'window_start'] } });
    if (commitInterval !== undefined) spec.delivery = { ...(spec.delivery as object | undefined), commitInterval };
    const env = {
      SLUICE_JOB_FILE: writeJobFile(name, spec),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
      SLUICE_MAX_BYTES_PER_PARTITION: '1024',
      SLUICE_POSTGRES_URL: endpoints.postgres.url,
    };
    return { env, table, output };
  }

  const suffix = randomBytes(4).toString('hex');
  let clean: { table: string; output: string };

  // An uninterrupted run of the job first: minutes on a loaded machine, where the other tests' minute is not enough.
  beforeAll(async () => {
    await client.query(
      `CREATE TABLE velocity_template_${suffix} (customer_id text, window_start timestamptz, window_end timestamptz, txn_count bigint, txn_sum double precision, PRIMARY KEY (customer_id, window_start))`,
    );
    tables.push(`velocity_template_${suffix}`);
    await createTopics(brokers, [input], PARTITIONS);
    expect(await produceGenerated(brokers, input, workload)).toBe(workload.count);
    const uninterrupted = await job(uniqueName('pg-clean'));
    await startRuntime(uninterrupted.env).exitsWith(0);
    clean = uninterrupted;
  }, RUN_TIMEOUT_MS);
  afterAll(async () => {
    for (const table of tables.reverse()) await client.query(`DROP TABLE IF EXISTS ${table}`);
  });

  it('fills the table with the last firing of each window the uninterrupted run emitted, re-fired windows included', async () => {
    const results = (await readCommitted(brokers, clean.output)).map((message) => JSON.parse(message.value!.toString()) as Record<string, unknown>);
    const rows = await tableAsResults(clean.table);
    expect(rows.length).toBeGreaterThan(400);
    // Some windows fired more than once (the late transactions): the table holds one row for each, its last figures.
    expect(results.length).toBeGreaterThan(rows.length);
    expect(rows).toEqual(lastFirings(results).map((line) => JSON.stringify(JSON.parse(line))));
  });

  it(
    'leaves the table equal to the uninterrupted run’s after kill -9 twice and a restart',
    async () => {
      const crashed = await job(uniqueName('pg-crash'));
      await killAfterCommits(crashed.env, [3, 6]);
      const mid = await tableAsResults(crashed.table);
      expect(mid.length).toBeGreaterThan(0);
      expect(mid.length).toBeLessThan((await tableAsResults(clean.table)).length);

      const last = startRuntime(crashed.env);
      await last.exitsWith(0);
      expect(last.events.find((e) => e.event === 'running')?.restoredRecords).toBeGreaterThan(0);
      expect(await tableAsResults(crashed.table)).toEqual(await tableAsResults(clean.table));
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'fences a paused zombie with the same ordinal in PostgreSQL too: woken after its replacement finished, it writes nothing',
    async () => {
      // No commit before the end of the input, so the zombie is frozen outside a commit: frozen inside one, it would
      // hold the fence's row lock and its replacement would wait for it (docs/connectors.md, PostgreSQL, "a frozen pod").
      const topics = await job(uniqueName('pg-zombie'), '10m');
      const zombie = startRuntime(topics.env);
      // Running: its sink has taken the fence's token, and it is reading.
      await zombie.waitForEvents('running', 1);
      // Frozen mid-run, as by a long GC pause, while its replacement runs the job to its end.
      zombie.child.kill('SIGSTOP');
      const replacement = startRuntime({ ...topics.env, SLUICE_STATE_DIR: scratchDir('state') });
      await replacement.exitsWith(0);
      expect(await tableAsResults(topics.table)).toEqual(await tableAsResults(clean.table));
      // Woken, its next commit would upsert firings older than the replacement's: the sink's fence refuses it first.
      zombie.child.kill('SIGCONT');
      await zombie.exitsWith(1);
      expect(zombie.events.find((e) => e.event === 'failed')?.code).toBe('SLUICE_E_POSTGRES_FENCED');
      expect(await tableAsResults(topics.table)).toEqual(await tableAsResults(clean.table));
    },
    RUN_TIMEOUT_MS,
  );
});
