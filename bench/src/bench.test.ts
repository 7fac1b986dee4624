// The bench harness end to end on a tiny input, so it cannot rot: every phase reads all its records and a ratio comes out. No time bounds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEndpoints } from '../../test/env/src/endpoints.js';
import { runEnrichmentBench, type EnrichmentBenchResult } from './enrichment.js';
import { runPatternBench, type PatternBenchResult } from './failed-logins.js';
import { runBench, type BenchResult } from './fraud-velocity.js';
import { runRepartitionBench, type RepartitionBenchResult } from './repartition.js';
import { enrichmentTable, patternTable, repartitionTable, saslTable, table, writeResult } from './report.js';
import { runSaslBench, type SaslBenchResult } from './sasl.js';

describe('npm run bench -- fraud-velocity, on 5 000 events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
  let result: BenchResult;
  let printed: string;

  beforeAll(async () => {
    // The bench starts the environment itself when it is down; under jest the global setup has started it.
    expect(readEndpoints().kafka.brokers.length).toBeGreaterThan(0);
    result = await runBench({
      events: 5000,
      partitions: 6,
      redis: true,
      latencyRate: 1000,
      latencySeconds: 1,
      profile: true,
      workDir: join(dir, 'work'),
      log: () => undefined,
    });
    printed = table(result);
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('preloads every event and reads all of them back in the consume-only phase', () => {
    expect(result.preload.events).toBe(5000);
    expect(result.ceiling.records).toBe(5000);
    expect(result.ceilingWithDecode.records).toBe(5000);
  });

  it('runs the fraud job exactly-once over every record, with results, and prints the ratio', () => {
    expect(result.fraud.recordsIn).toBe(5000);
    expect(result.fraud.recordsOut).toBeGreaterThan(0);
    expect(result.fraud.redis).toBe(true);
    expect(result.ratio).toBeGreaterThan(0);
    expect(printed).toMatch(/ratio \(b\)\/\(a\) +\d+\.\d %/);
  });

  it('measures latency on outputs of records it produced, and the reader sees every output', () => {
    expect(result.latency.recordsIn).toBe(result.latency.produced);
    expect(result.latency.outputsSeen).toBe(result.latency.recordsOut);
    expect(result.latency.measured).toBeGreaterThan(0);
    expect(result.latency.p99Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
    expect(printed).toMatch(/p99 +\d+ ms/);
  });

  it('summarizes the fraud job’s CPU profile and writes the result as JSON', () => {
    expect(result.profile?.summary.packages.length).toBeGreaterThan(0);
    const written = JSON.parse(readFileSync(writeResult(dir, result), 'utf8')) as BenchResult;
    expect(written.fraud.recordsIn).toBe(5000);
  });
});

describe('npm run bench -- failed-logins, on 3 000 transactions and 3 000 sign-ins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
  let result: PatternBenchResult;
  let printed: string;

  beforeAll(async () => {
    result = await runPatternBench({ events: 3000, partitions: 6, latencyRate: 1000, latencySeconds: 1, workDir: join(dir, 'work'), log: () => undefined });
    printed = patternTable(result);
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('preloads both inputs in full and runs each job over every record, with outputs', () => {
    expect(result.preload.transactions.events).toBe(3000);
    expect(result.preload.logins.events).toBe(3000);
    expect(result.fraud.recordsIn).toBe(3000);
    expect(result.fraud.recordsOut).toBeGreaterThan(0);
    expect(result.pattern.recordsIn).toBe(3000);
    expect(result.pattern.recordsOut).toBeGreaterThan(0);
  });

  it('measures sign-in to alert latency on alerts of sign-ins it produced, and the reader sees every alert', () => {
    expect(result.latency.recordsIn).toBe(result.latency.produced);
    expect(result.latency.recordsOut).toBeGreaterThan(0);
    expect(result.latency.outputsSeen).toBe(result.latency.recordsOut);
    expect(printed).toMatch(/sign-in to alert at 1000\/s, exactly-once: p50 +(\d+|NaN) ms/);
  });

  it('prints both jobs’ events/s and the ratio against the baseline of the same run', () => {
    expect(result.ratio).toBeCloseTo(result.pattern.eventsPerSecond / result.fraud.eventsPerSecond);
    expect(printed).toMatch(/baseline: fraud-velocity.* [\d,]+ events\/s/);
    expect(printed).toMatch(/failed-logins pattern.* [\d,]+ events\/s .* \d+ alerts/);
    expect(printed).toMatch(/ratio failed-logins \/ fraud-velocity +\d+\.\d %/);
    const written = JSON.parse(readFileSync(writeResult(dir, result), 'utf8')) as PatternBenchResult;
    expect(written.bench).toBe('failed-logins');
  });
});

describe('npm run bench -- enrichment, on 3 000 transactions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
  let result: EnrichmentBenchResult;
  let printed: string;

  beforeAll(async () => {
    result = await runEnrichmentBench({ events: 3000, partitions: 6, workDir: join(dir, 'work'), log: () => undefined });
    printed = enrichmentTable(result);
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs both jobs over every transaction, with the tables written', () => {
    expect(result.preload.events).toBe(3000);
    expect(result.tables).toEqual({ customers: 9000, merchants: 5000 });
    expect(result.fraud.recordsIn).toBe(3000);
    expect(result.enrichment.recordsIn).toBe(3000);
  });

  it('drops no transaction in the joins: as many customer windows as the fraud job’s', () => {
    // Every merchant is in the table (the inner join keeps all) and the customer join is a left join; both jobs window
    // by customer_id in 5-minute tumbling windows, so both emit one result per customer and window.
    expect(result.enrichment.recordsOut).toBeGreaterThan(0);
    expect(result.enrichment.recordsOut).toBe(result.fraud.recordsOut);
  });

  it('prints both jobs’ events/s, the ratio and the keyBy it changed', () => {
    expect(result.ratio).toBeCloseTo(result.enrichment.eventsPerSecond / result.fraud.eventsPerSecond);
    expect(printed).toMatch(/enrichment: .* [\d,]+ events\/s .* \d+ windows/);
    expect(printed).toMatch(/ratio enrichment \/ fraud-velocity +\d+\.\d %/);
    expect(printed).toMatch(/windowed by customer_id, not the example's tier/);
    const written = JSON.parse(readFileSync(writeResult(dir, result), 'utf8')) as EnrichmentBenchResult;
    expect(written.bench).toBe('enrichment');
  });
});

describe('npm run bench -- repartition, on 3 000 transactions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
  let result: RepartitionBenchResult;
  let printed: string;

  beforeAll(async () => {
    result = await runRepartitionBench({ events: 3000, partitions: 6, workDir: join(dir, 'work'), log: () => undefined });
    printed = repartitionTable(result);
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the job keyed and repartitioned over every transaction, with about as many results', () => {
    expect(result.preload.events).toBe(3000);
    expect(result.keyed.recordsIn).toBe(3000);
    expect(result.repartitioned.recordsIn).toBe(3000);
    expect(result.keyed.recordsOut).toBeGreaterThan(0);
    // Not equal: the preloaded stream is out of order, and the two watermarks make different records late (see the table's note).
    expect(Math.abs(result.repartitioned.recordsOut - result.keyed.recordsOut)).toBeLessThan(result.keyed.recordsOut * 0.02);
  });

  it('prints both jobs’ events/s and the ratio', () => {
    expect(result.ratio).toBeCloseTo(result.repartitioned.eventsPerSecond / result.keyed.eventsPerSecond);
    expect(printed).toMatch(/repartitioned \(two stages\).* [\d,]+ events\/s/);
    expect(printed).toMatch(/ratio repartitioned \/ keyed +\d+\.\d %/);
    expect(printed).toMatch(/results \d+ and \d+: the repartitioned job's watermark is the least/);
    const written = JSON.parse(readFileSync(writeResult(dir, result), 'utf8')) as RepartitionBenchResult;
    expect(written.bench).toBe('repartition');
  });
});

describe('npm run bench -- sasl, on 3 000 transactions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-test-'));
  let result: SaslBenchResult;
  let printed: string;

  beforeAll(async () => {
    result = await runSaslBench({ events: 3000, partitions: 6, workDir: join(dir, 'work'), log: () => undefined });
    printed = saslTable(result);
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the job on both listeners over every transaction, with the same results', () => {
    expect(result.preload.events).toBe(3000);
    expect(result.plaintext.recordsIn).toBe(3000);
    expect(result.saslSsl.recordsIn).toBe(3000);
    expect(result.plaintext.recordsOut).toBeGreaterThan(0);
    expect(result.saslSsl.recordsOut).toBe(result.plaintext.recordsOut);
  });

  it('prints both jobs’ events/s and the ratio', () => {
    expect(result.ratio).toBeCloseTo(result.saslSsl.eventsPerSecond / result.plaintext.eventsPerSecond);
    expect(printed).toMatch(/on SASL_SSL \(TLS, SCRAM-SHA-512\).* [\d,]+ events\/s/);
    expect(printed).toMatch(/ratio SASL_SSL \/ plaintext +\d+\.\d %/);
    const written = JSON.parse(readFileSync(writeResult(dir, result), 'utf8')) as SaslBenchResult;
    expect(written.bench).toBe('sasl');
  });
});
