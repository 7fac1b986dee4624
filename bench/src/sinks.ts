// Rows/s through the Redis, PostgreSQL and S3 lake sinks, the same window results and the same commits in the same run (`npm run bench -- sinks`).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { LakeSink } from '../../runtime-image/src/connectors/s3/sink.js';
import { LakeStore } from '../../runtime-image/src/connectors/s3/store.js';
import { RedisSink } from '../../runtime-image/src/connectors/redis/sink.js';
import { PostgresSink } from '../../runtime-image/src/connectors/postgres/sink.js';
import type { Sink, SinkRecord } from '../../runtime-image/src/connectors/sink.js';
import { benchEnvironment } from './environment.js';

export interface SinksBenchOptions {
  /** Window results written per sink and round. */
  rows: number;
  /** Results per commit: the rows one commit interval of the fraud job emits. */
  perCommit: number;
  rounds: number;
  log: (line: string) => void;
}

export interface SinkMeasured {
  name: string;
  /** The best round's results per second, write and commit included. */
  rowsPerSecond: number;
}

/** Fraud-velocity results: `rows / 10` customers × 10 five-minute windows, each result a row of its own. */
function windowResults(rows: number): SinkRecord[] {
  const customers = Math.max(1, Math.floor(rows / 10));
  return Array.from({ length: rows }, (_, i) => {
    const start = Date.parse('2025-12-05T10:00:00Z') + Math.floor(i / customers) * 300_000;
    const count = 1 + (i % 7);
    return {
      value: {
        customer_id: `C${i % customers}`,
        window_start: new Date(start).toISOString(),
        window_end: new Date(start + 300_000).toISOString(),
        txn_count: count,
        txn_sum: count * 42.5,
      },
      timestamp: start + 299_999,
    };
  });
}

/** Writes every result, committing every `perCommit`; the seconds it took. */
async function drive(sink: Sink, results: readonly SinkRecord[], perCommit: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < results.length; i++) {
    sink.write(results[i]!);
    if ((i + 1) % perCommit === 0) await sink.commit();
  }
  await sink.commit();
  return (performance.now() - started) / 1000;
}

/**
 * Through an S3 lake sink as on a runtime pod: each commit stages a chunk, its transaction commits, and the close rolls
 * the chunks into final files (the Parquet or JSON-lines encoding happens there); the seconds it took, close included.
 */
async function driveLake(sink: LakeSink, results: readonly SinkRecord[], perCommit: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < results.length; i++) {
    sink.write(results[i]!, 0);
    if ((i + 1) % perCommit === 0 || i === results.length - 1) {
      sink.stage();
      await sink.commit();
      await sink.committed();
    }
  }
  await sink.close();
  return (performance.now() - started) / 1000;
}

export async function runSinksBench(options: SinksBenchOptions): Promise<SinkMeasured[]> {
  const endpoints = await benchEnvironment(options.log);
  const results = windowResults(options.rows);
  const run = randomBytes(4).toString('hex');
  const table = `bench_velocity_${run}`;
  const admin = new pg.Client({ connectionString: endpoints.postgres.url });
  await admin.connect();
  await admin.query(
    `CREATE TABLE ${table} (customer_id text, window_start timestamptz, window_end timestamptz, txn_count bigint, txn_sum double precision, PRIMARY KEY (customer_id, window_start))`,
  );
  const { endpoint, region, forcePathStyle, accessKeyId, secretAccessKey } = endpoints.s3;
  const s3 = { endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } };
  const bucket = `bench-lake-${run}`;
  const s3Client = new S3Client(s3);
  await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
  s3Client.destroy();
  const best = new Map<string, number>();
  const record = (name: string, seconds: number): void => {
    best.set(name, Math.max(best.get(name) ?? 0, Math.round(options.rows / seconds)));
    options.log(`${name}: ${Math.round(options.rows / seconds).toLocaleString('en-US')} rows/s`);
  };
  try {
    // Rounds interleave the sinks, so a noisy neighbour slows each alike.
    for (let round = 1; round <= options.rounds; round++) {
      const redis = new RedisSink({ url: endpoints.redis.url, key: `bench-${run}:{customer_id}:{window_start}`, valueField: 'txn_count', ttlMs: 300_000 });
      record('redis (SET PX, pipelined)', await drive(redis, results, options.perCommit));
      await redis.close();
      await admin.query(`TRUNCATE ${table}`);
      const inserts = new PostgresSink({ url: endpoints.postgres.url, table, keyColumns: ['customer_id', 'window_start'] });
      await inserts.start();
      record('postgres (new rows)', await drive(inserts, results, options.perCommit));
      await inserts.close();
      // A replay, or a re-fired window: every row exists, so each upsert is an update.
      const updates = new PostgresSink({ url: endpoints.postgres.url, table, keyColumns: ['customer_id', 'window_start'] });
      record('postgres (replayed rows)', await drive(updates, results, options.perCommit));
      await updates.close();
      // As on a runtime pod: each commit's transaction first checks and locks the writer's fence row.
      await admin.query(`TRUNCATE ${table}`);
      const fenced = new PostgresSink({ url: endpoints.postgres.url, table, keyColumns: ['customer_id', 'window_start'], writer: `bench-${run}/0/velocity` });
      await fenced.start();
      record('postgres (new rows, fenced)', await drive(fenced, results, options.perCommit));
      await fenced.close();
      for (const format of ['parquet', 'jsonl'] as const) {
        const lake = new LakeSink({
          name: 'lake',
          store: new LakeStore(bucket, s3),
          prefix: `${format}-${round}/`,
          format,
          rollInterval: 3_600_000,
          transactional: true,
        });
        record(`s3 lake (${format})`, await driveLake(lake, results, options.perCommit));
      }
    }
  } finally {
    await admin.query(`DELETE FROM sluice_sink_fences WHERE writer = $1`, [`bench-${run}/0/velocity`]).catch(() => undefined);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  }
  return [...best].map(([name, rowsPerSecond]) => ({ name, rowsPerSecond }));
}

export function sinksTable(options: Pick<SinksBenchOptions, 'rows' | 'perCommit' | 'rounds'>, measured: readonly SinkMeasured[]): string {
  const redis = measured.find((m) => m.name.startsWith('redis'))?.rowsPerSecond ?? Number.NaN;
  const rows = measured.map(
    (m) => `${m.name.padEnd(28)} ${m.rowsPerSecond.toLocaleString('en-US').padStart(10)} ${(m.rowsPerSecond / redis).toFixed(2).padStart(9)}`,
  );
  return [
    `${options.rows.toLocaleString('en-US')} window results, a commit every ${options.perCommit}, best of ${options.rounds} rounds, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`,
    `${'sink'.padEnd(28)} ${'rows/s'.padStart(10)} ${'vs redis'.padStart(9)}`,
    ...rows,
  ].join('\n');
}
