// The S3 data-lake sink on the real servers: streamctl run of the example writes its windows as JSON lines and as Parquet that DuckDB reads
// back, and a Kafka job killed -9 mid-stream, twice, leaves the lake equal to an uninterrupted run's: no result twice, none missing, no half file.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { KafkajsClient } from '@sluice/runtime';
import { buildCli, streamctl } from '../cli/cli.js';
import { readEndpoints } from '../env/src/endpoints.js';
import { s3Client } from '../env/src/s3.js';
import {
  createTopics,
  fraudJobSpec,
  killAfterCommits,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
} from './kafka/harness.js';

const endpoints = readEndpoints();
/** How long a hook or test that runs the job from start to end may take before it counts as hung. */
const RUN_TIMEOUT_MS = 300_000;
const brokers = endpoints.kafka.brokers;
/** The repository's root, where node resolves @duckdb/node-api. */
const repo = new URL('../../', import.meta.url).pathname;
const example = (file: string): string => new URL(`../../examples/fraud-velocity/${file}`, import.meta.url).pathname;
const s3 = s3Client(endpoints.s3);
const bucket = `lake-${randomBytes(4).toString('hex')}`;
const downloads = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
/** How a pod and streamctl run reach the test's S3 server. */
const s3Env = {
  SLUICE_S3_ENDPOINT: endpoints.s3.endpoint,
  SLUICE_S3_REGION: endpoints.s3.region,
  SLUICE_S3_FORCE_PATH_STYLE: 'true',
  AWS_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
};

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => {
  s3.destroy();
  rmSync(downloads, { recursive: true, force: true });
  removeScratchDirs();
});

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map(({ Key }) => Key!));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return keys.sort();
}

/** The lake under `prefix` copied to a local folder, as a reader would see it (staging included, for the reader to skip). */
async function download(prefix: string): Promise<string> {
  const folder = join(downloads, prefix);
  for (const key of await keysUnder(prefix)) {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const file = join(downloads, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await Body!.transformToByteArray());
  }
  return folder;
}

/**
 * DuckDB in a process of its own: its native binding keeps a thread that would hold the test process open. Prints the
 * query's rows as JSON.
 */
const DUCKDB_QUERY = `
import { DuckDBInstance } from '@duckdb/node-api';
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(process.argv[1]);
process.stdout.write(JSON.stringify(reader.getRowObjectsJson()));
connection.closeSync();
instance.closeSync();
`;

/** The lake's rows as DuckDB reads them (Hive partitions as columns), as sorted JSON lines of the result's fields. */
async function lakeRows(prefix: string, format: 'parquet' | 'jsonl'): Promise<string[]> {
  const folder = await download(prefix);
  // dt and hr as the folder names spell them (hr=09, not 9).
  // JSON lines have no types: the columns as the results' JSON has them (DuckDB would take the ISO strings for timestamps).
  const read =
    format === 'parquet'
      ? `read_parquet('${folder}/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)`
      : `read_json('${folder}/*/*/*.jsonl', hive_partitioning = true, hive_types_autocast = false, columns = {customer_id: 'VARCHAR', window_start: 'VARCHAR', window_end: 'VARCHAR', txn_count: 'DOUBLE', txn_sum: 'DOUBLE'})`;
  const query = `SELECT customer_id, window_start, window_end, txn_count, txn_sum, dt, hr FROM ${read}`;
  const ran = spawnSync(process.execPath, ['--input-type=module', '-e', DUCKDB_QUERY, query], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (ran.status !== 0) throw new Error(`DuckDB could not read the lake under ${prefix}: ${ran.stderr}`);
  const rows = JSON.parse(ran.stdout) as Record<string, string | number>[];
  return rows
    .map((row) =>
      JSON.stringify({
        customer_id: row.customer_id,
        window_start: row.window_start,
        window_end: row.window_end,
        txn_count: Number(row.txn_count),
        txn_sum: Number(row.txn_sum),
        dt: row.dt,
        hr: row.hr,
      }),
    )
    .sort();
}

/** A result as the lake row of it: its fields and the Hive partition of its event time (a window's end minus 1 ms). */
function asLakeRow(result: Record<string, unknown>): string {
  const eventTime = new Date(Date.parse(String(result.window_end)) - 1).toISOString();
  return JSON.stringify({
    customer_id: result.customer_id,
    window_start: String(result.window_start),
    window_end: String(result.window_end),
    txn_count: Number(result.txn_count),
    txn_sum: Number(result.txn_sum),
    dt: eventTime.slice(0, 10),
    hr: eventTime.slice(11, 13),
  });
}

describe('streamctl run with the S3 lake sink', () => {
  const expected = readFileSync(example('expected.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => asLakeRow(JSON.parse(line) as Record<string, unknown>))
    .sort();

  // Compiling the CLI (tsc -b) alone can take over a minute on a loaded machine.
  beforeAll(buildCli, RUN_TIMEOUT_MS);

  it.each(['parquet', 'jsonl'] as const)('writes every firing of the example’s windows once, as %s a reader takes', async (format) => {
    const manifest = parse(readFileSync(example('job-lake.yaml'), 'utf8')) as { spec: { sinks: { s3: Record<string, unknown> }[] } };
    const prefix = `run-${format}/`;
    Object.assign(manifest.spec.sinks[0]!.s3, { bucket, prefix, format });
    const file = join(downloads, `job-lake-${format}.yaml`);
    writeFileSync(file, stringify(manifest));

    const ran = streamctl(['run', file, '--input', example('sample.jsonl'), '--output', '/dev/null'], { env: { ...process.env, ...s3Env } });
    expect(ran.stderr).toContain('12 results out');
    expect(ran.status).toBe(0);
    // The 12 firings: C123's first window fired with 4 transactions and re-fired with 5, and the lake keeps both rows.
    expect(expected).toHaveLength(12);
    expect(await lakeRows(prefix, format)).toEqual(expected);
    expect(await keysUnder(`${prefix}_staging/`)).toEqual([]);
  });
});

describe('a Kafka job with the S3 lake sink, killed -9 mid-stream', () => {
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
  const input = uniqueName('txn-lake');

  /** The fraud job with a Kafka sink and a Parquet lake under a prefix of its own, rolled every second so kills land between rolls too. */
  function job(name: string): { env: Record<string, string>; prefix: string; output: string } {
    const prefix = `${name}/`;
    const output = `${name}-features`;
    const spec = fraudJobSpec({ input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` });
    (spec.sinks as unknown[]).push({ name: 'velocity-lake', s3: { bucket, prefix, format: 'parquet', rollInterval: '1s' } });
    const env = {
      SLUICE_JOB_FILE: writeJobFile(name, spec),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
      SLUICE_MAX_BYTES_PER_PARTITION: '1024',
      ...s3Env,
    };
    return { env, prefix, output };
  }

  let clean: { prefix: string; output: string };

  // An uninterrupted run of the job first: minutes on a loaded machine, where the other tests' minute is not enough.
  beforeAll(async () => {
    await createTopics(brokers, [input], PARTITIONS);
    expect(await produceGenerated(brokers, input, workload)).toBe(workload.count);
    const uninterrupted = job(uniqueName('lake-clean'));
    await startRuntime(uninterrupted.env).exitsWith(0);
    clean = uninterrupted;
  }, RUN_TIMEOUT_MS);

  it('holds every firing the uninterrupted run committed to Kafka, once', async () => {
    const results = (await readCommitted(brokers, clean.output)).map((message) => JSON.parse(message.value!.toString()) as Record<string, unknown>);
    expect(results.length).toBeGreaterThan(400);
    expect(await lakeRows(clean.prefix, 'parquet')).toEqual(results.map(asLakeRow).sort());
    expect(await keysUnder(`${clean.prefix}_staging/`)).toEqual([]);
  });

  it(
    'leaves the lake equal to the uninterrupted run’s after kill -9 twice and a restart',
    async () => {
      const crashed = job(uniqueName('lake-crash'));
      await killAfterCommits(crashed.env, [3, 6]);
      const last = startRuntime(crashed.env);
      await last.exitsWith(0);
      expect(last.events.find((e) => e.event === 'running')?.restoredRecords).toBeGreaterThan(0);
      expect(await lakeRows(crashed.prefix, 'parquet')).toEqual(await lakeRows(clean.prefix, 'parquet'));
      expect(await keysUnder(`${crashed.prefix}_staging/`)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  /**
   * Starts the pod and kills it -9 the moment a new chunk shows in S3: its transaction is then most likely still in
   * flight. Returns the chunks left in S3 that the committed offsets' metadata does not cover (an aborted transaction's).
   */
  async function killWithChunkStaged(env: Record<string, string>, name: string, prefix: string): Promise<string[]> {
    const staging = `${prefix}_staging/`;
    const before = new Set(await keysUnder(staging));
    const pod = startRuntime(env);
    let exited = false;
    void pod.exited.then(() => (exited = true));
    while (!exited && (await keysUnder(staging)).every((key) => before.has(key) || !key.endsWith('.jsonl')))
      await new Promise((resolve) => setImmediate(resolve));
    pod.child.kill('SIGKILL');
    await pod.exited;
    const kafka = new KafkajsClient({ brokers });
    try {
      const committed = await kafka.committedOffsets(`sluice-${name}`, input);
      return (await keysUnder(staging)).filter((key) => {
        const [, partition, sequence, attempt] = /_staging\/(\d+)\/(\d+)-(\w+)\.jsonl$/.exec(key) ?? [];
        if (partition === undefined) return false;
        const recorded = JSON.parse(committed.get(Number(partition))?.metadata ?? '{}') as Record<string, { sequence: number; attempt: string } | undefined>;
        const last = recorded['s3:velocity-lake'];
        return last === undefined || last.attempt !== attempt || Number(sequence) > last.sequence;
      });
    } finally {
      await kafka.close();
    }
  }

  it(
    'drops the chunks of a transaction a kill -9 aborted, so their replayed results are in the lake once',
    async () => {
      const name = uniqueName('lake-abort');
      const crashed = job(name);
      const aborted: string[] = [];
      // A kill lands between a chunk's put and its transaction's commit most times; a few tries make it certain.
      for (let kill = 0; kill < 8 && aborted.length === 0; kill++) aborted.push(...(await killWithChunkStaged(crashed.env, name, crashed.prefix)));
      expect(aborted.length).toBeGreaterThan(0);
      await startRuntime(crashed.env).exitsWith(0);
      expect(await lakeRows(crashed.prefix, 'parquet')).toEqual(await lakeRows(clean.prefix, 'parquet'));
      expect(await keysUnder(`${crashed.prefix}_staging/`)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );
});
