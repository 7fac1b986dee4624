// Phase (c): the filter/map job fed at a steady rate, exactly-once; event-to-output latency = when a read_committed reader sees the output − the record's produced_at.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkajsClient, type Fetch } from '@sluice/runtime';
import { FILTER_MAP_JOB, jobOnTopics } from './jobs.js';
import { PacedProducer } from './paced-producer.js';
import type { PreloadWorkload } from './preload.js';
import { commitStats, startRuntime, type CommitStats, type RuntimeProcess } from './runtime-process.js';

export interface LatencyOptions {
  brokers: string[];
  name: string;
  partitions: number;
  /** Events per second the producer sends. */
  rate: number;
  /** How long latencies are measured, after the warm-up. */
  seconds: number;
  workDir: string;
  /** The job's manifest (its output must carry the input's `produced_at`); the filter/map job when absent. */
  job?: string;
  /** What the paced producer sends; transactions when absent. */
  workload?: PreloadWorkload;
  log: (line: string) => void;
}

export interface LatencyResult {
  rate: number;
  produced: number;
  recordsIn: number;
  recordsOut: number;
  /** Outputs the read_committed reader saw; equals recordsOut when nothing was lost. */
  outputsSeen: number;
  /** Outputs whose input was produced inside the measured window. */
  measured: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The part up to the job's send of the output (the output message's create time − produced_at): the rest is the commit and the reader. */
  toSendP50Ms: number;
  toSendP99Ms: number;
  commits: CommitStats;
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Waits until `done()` holds, polling (after `poll`, when given); fails after `timeoutMs` with `what` and how far it got. */
async function until(what: () => string, done: () => boolean, timeoutMs: number, log: (line: string) => void, poll?: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let said = Date.now();
  for (;;) {
    await poll?.();
    if (done()) return;
    if (Date.now() > deadline) throw new Error(`latency: timed out after ${timeoutMs / 1000}s waiting for ${what()}`);
    if (Date.now() - said >= 5000) {
      said = Date.now();
      log(`latency: waiting for ${what()}`);
    }
    await sleep(20);
  }
}

/** A read_committed reader of the output topic: counts every output, and takes the latencies of those whose input was produced in `window`. */
class OutputReader {
  seen = 0;
  failure: Error | undefined;
  window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  readonly latencies: number[] = [];
  readonly toSend: number[] = [];
  #fetch: Fetch | undefined;

  async start(client: KafkajsClient, topic: string, partitions: number): Promise<void> {
    this.#fetch = await client.fetch({
      topics: [topic],
      partitions: Array.from({ length: partitions }, (_, p) => p),
      start: () => 0,
      readCommitted: true,
      onBatch: (batch) => {
        const now = Date.now();
        for (const message of batch.messages) {
          this.seen += 1;
          const producedAt = (JSON.parse(message.value!.toString('utf8')) as { produced_at: number }).produced_at;
          if (producedAt >= this.window.from && producedAt < this.window.to) {
            this.latencies.push(now - producedAt);
            this.toSend.push(message.timestamp - producedAt);
          }
        }
        return Promise.resolve();
      },
      onError: (error) => (this.failure = error),
    });
  }

  async stop(): Promise<void> {
    await this.#fetch?.stop();
  }
}

export async function runLatency(options: LatencyOptions): Promise<LatencyResult> {
  const { brokers, name, partitions, rate, log } = options;
  const input = `${name}-input`;
  const { file, topics } = jobOnTopics(options.job ?? FILTER_MAP_JOB, name, input, { redis: false }, options.workDir);
  const output = topics.outputs[0]!;
  const client = new KafkajsClient({ brokers, clientId: 'sluice-bench-latency' });
  const reader = new OutputReader();
  const producer = new PacedProducer(brokers, input, partitions, options.workload);
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  let runtime: RuntimeProcess | undefined;
  try {
    // The output topic exists before the job starts, so the reader is in place before the first result.
    await client.ensureTopics([input, output].map((topic) => ({ topic, partitions })));
    // A consumer that fetches a topic before the broker's metadata has all its partitions rejoins its group, which the engine's client
    // treats as a failure: wait until the broker answers offsets for every partition of both.
    const known = new Map<string, number>();
    for (const topic of [input, output]) {
      await until(
        () => `the broker to know the ${partitions} partitions of ${topic}`,
        () => known.get(topic) === partitions,
        30_000,
        log,
        async () => known.set(topic, (await client.endOffsets(topic)).size),
      );
    }
    await reader.start(client, output, partitions);
    runtime = startRuntime({ env: { SLUICE_JOB_FILE: file, SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_STATE_DIR: stateDir, SLUICE_END_MARKERS: 'true' } });
    await runtime.waitFor('running', 120_000);
    await producer.start(rate);
    // Warm-up: until outputs flow (the job's and the reader's consumers have joined), then one more second.
    await until(
      () => `the first output of ${name} (${producer.sent} events sent)`,
      () => reader.seen > 0 || reader.failure !== undefined,
      120_000,
      log,
    );
    await sleep(1000);
    reader.window = { from: Date.now(), to: Date.now() + options.seconds * 1000 };
    log(`latency: measuring ${options.seconds}s at ${rate} events/s`);
    await sleep(options.seconds * 1000);
    await producer.stop();
    const finished = await runtime.waitFor('finished', 120_000);
    await runtime.exitsCleanly(60_000);
    const recordsOut = Number(finished.recordsOut);
    await until(
      () => `the reader to see all ${recordsOut} outputs (${reader.seen} so far)`,
      () => reader.seen >= recordsOut || reader.failure !== undefined,
      60_000,
      log,
    );
    if (reader.failure !== undefined) throw reader.failure;
    const sorted = reader.latencies.sort((a, b) => a - b);
    const sortedToSend = reader.toSend.sort((a, b) => a - b);
    return {
      rate,
      produced: producer.sent,
      recordsIn: Number(finished.recordsIn),
      recordsOut,
      outputsSeen: reader.seen,
      measured: sorted.length,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
      toSendP50Ms: percentile(sortedToSend, 50),
      toSendP99Ms: percentile(sortedToSend, 99),
      commits: commitStats(runtime.events),
    };
  } finally {
    await producer.close();
    await reader.stop();
    await client.close();
    if (runtime !== undefined && runtime.child.exitCode === null) runtime.child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}
