// The bench's result as a short table for people and as JSON for the record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrichmentBenchResult } from './enrichment.js';
import type { PatternBenchResult } from './failed-logins.js';
import type { RepartitionBenchResult } from './repartition.js';
import type { SaslBenchResult } from './sasl.js';
import type { BenchResult } from './fraud-velocity.js';
import type { BoundedJobResult } from './fraud.js';
import { machineLine } from './run-header.js';

const rate = (eventsPerSecond: number): string => `${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s`;
const ms = (value: number): string => `${Math.round(value)} ms`;

export function table(result: BenchResult): string {
  const { preload, ceiling, ceilingWithDecode, fraud, latency, ratio } = result;
  const rows: [string, string, string][] = [
    [
      `preload (${preload.producers} producers, acks=1)`,
      rate(preload.eventsPerSecond),
      `${preload.events} events, ${preload.seconds.toFixed(1)} s, ${preload.batch} per request`,
    ],
    ['(a) consume-only ceiling (kafkajs)', rate(ceiling.eventsPerSecond), `${ceiling.records} records, ${ceiling.seconds.toFixed(1)} s`],
    ['    the same read + JSON decode', rate(ceilingWithDecode.eventsPerSecond), 'for comparison: the source’s decoding alone'],
    [
      `(b) fraud-velocity, exactly-once, Redis ${fraud.redis ? 'on' : 'off'}, commit ${fraud.commitInterval}`,
      rate(fraud.eventsPerSecond),
      `${fraud.recordsIn} records, ${fraud.seconds.toFixed(1)} s, ${fraud.recordsOut} results`,
    ],
    [
      '    its transactions',
      `${fraud.commits.commits}`,
      `${fraud.commits.changelogRecords} changelog records; commit p50 ${ms(fraud.commits.p50Ms)}, p99 ${ms(fraud.commits.p99Ms)}; ${((fraud.commits.totalMs / 1000 / fraud.seconds) * 100).toFixed(0)} % of the run in commits`,
    ],
    ['    ratio (b)/(a)', `${(ratio * 100).toFixed(1)} %`, 'target ≥ 70 %'],
    [`(c) filter/map at ${latency.rate}/s, exactly-once: p50`, ms(latency.p50Ms), `${latency.measured} outputs measured`],
    ['    p99', ms(latency.p99Ms), `target < 300 ms; p90 ${ms(latency.p90Ms)}, max ${ms(latency.maxMs)}`],
    ['    up to the job’s send: p50', ms(latency.toSendP50Ms), `p99 ${ms(latency.toSendP99Ms)}; the rest is the transaction and the reader`],
    ['    its transactions', `${latency.commits.commits}`, `commit p50 ${ms(latency.commits.p50Ms)}, p99 ${ms(latency.commits.p99Ms)}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`);
  const load = machineLine(result.machine);
  const profile =
    result.profile === undefined
      ? []
      : [
          '',
          `profile of the fraud job: ${result.profile.file}`,
          ...result.profile.summary.packages.slice(0, 8).map((p) => `  ${p.percent.toFixed(1).padStart(5)} %  ${p.name}`),
          '  top functions (self time):',
          ...result.profile.summary.functions.slice(0, 10).map((f) => `  ${f.percent.toFixed(1).padStart(5)} %  ${f.name}`),
        ];
  return [...lines, load, ...profile].join('\n');
}

const jobRows = (name: string, job: BoundedJobResult, outputs: string): [string, string, string][] => [
  [name, rate(job.eventsPerSecond), `${job.recordsIn} records, ${job.seconds.toFixed(1)} s, ${job.recordsOut} ${outputs}`],
  [
    '    its transactions: commit p99',
    ms(job.commits.p99Ms),
    `${job.commits.commits} transactions, commit p50 ${ms(job.commits.p50Ms)}; ${((job.commits.totalMs / 1000 / job.seconds) * 100).toFixed(0)} % of the run in commits`,
  ],
];

const aligned = (rows: [string, string, string][]): string[] => {
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  return rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`);
};

/** The failed-logins bench: the pattern job beside the fraud-velocity baseline of the same run. */
export function patternTable(result: PatternBenchResult): string {
  const lines = aligned([
    ...jobRows('baseline: fraud-velocity, exactly-once, Redis on', result.fraud, 'results'),
    ...jobRows('failed-logins pattern (keyedBy ip), exactly-once, Redis on', result.pattern, 'alerts'),
    ['    ratio failed-logins / fraud-velocity', `${(result.ratio * 100).toFixed(1)} %`, 'same run, same broker, same commit interval'],
    [
      `sign-in to alert at ${result.latency.rate}/s, exactly-once: p50`,
      ms(result.latency.p50Ms),
      `${result.latency.measured} alerts measured; includes the wait for the watermark (maxOutOfOrderness 10s of event time)`,
    ],
    ['    p99', ms(result.latency.p99Ms), `p90 ${ms(result.latency.p90Ms)}, max ${ms(result.latency.maxMs)}`],
  ]);
  const load = machineLine(result.machine);
  return [...lines, load].join('\n');
}

/** The enrichment bench: the join + window job beside the fraud-velocity baseline of the same run. */
export function enrichmentTable(result: EnrichmentBenchResult): string {
  const lines = aligned([
    ...jobRows('baseline: fraud-velocity, exactly-once, Redis on', result.fraud, 'results'),
    ...jobRows('enrichment: 2 table joins + window by customer_id, exactly-once', result.enrichment, 'windows'),
    ['    ratio enrichment / fraud-velocity', `${(result.ratio * 100).toFixed(1)} %`, 'same run, same broker, same commit interval'],
  ]);
  const note = `tables: ${result.tables.customers} customers (co-partitioned), ${result.tables.merchants} merchants (broadcast); windowed by customer_id, not the example's tier (keyBy tier needs a repartition after the table joins, which runtime pods still refuse)`;
  const load = machineLine(result.machine);
  return [...lines, note, load].join('\n');
}

/** The repartition bench: the fraud job repartitioned beside the same job read as keyed, same run, same topic. */
export function repartitionTable(result: RepartitionBenchResult): string {
  const lines = aligned([
    ...jobRows('baseline: fraud-velocity keyedBy customer_id (one stage), exactly-once, Redis on', result.keyed, 'results'),
    ...jobRows('the same job repartitioned (two stages), exactly-once, Redis on', result.repartitioned, 'results'),
    ['    ratio repartitioned / keyed', `${(result.ratio * 100).toFixed(1)} %`, 'same run, same topic, same commit interval'],
  ]);
  const note =
    `results ${result.keyed.recordsOut} and ${result.repartitioned.recordsOut}: the repartitioned job's watermark is the least over every source partition ` +
    "(Flink's rule), not each partition's own, so other records are late and other windows fire again; every record is written to and read back from the repartition topic, in transactions of its own";
  return [...lines, note, machineLine(result.machine)].join('\n');
}

/** The SASL bench: the fraud job over SASL_SSL beside the same job in plaintext, same run, same topic. */
export function saslTable(result: SaslBenchResult): string {
  const lines = aligned([
    ...jobRows('baseline: fraud-velocity on the plaintext listener, exactly-once, Redis on', result.plaintext, 'results'),
    ...jobRows('the same job on SASL_SSL (TLS, SCRAM-SHA-512), exactly-once, Redis on', result.saslSsl, 'results'),
    ['    ratio SASL_SSL / plaintext', `${(result.ratio * 100).toFixed(1)} %`, 'same run, same topic, same commit interval'],
  ]);
  const note = "the SASL user is the broker's super user: ACL checks for other users add little more (they are cached per session)";
  return [...lines, note, machineLine(result.machine)].join('\n');
}

/** Writes `<dir>/<startedAt>.json` (colons made dashes) and returns its path. */
export function writeResult(dir: string, result: { startedAt: string }): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.startedAt.slice(0, 19).replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
