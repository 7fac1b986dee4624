// Helpers for the end-to-end tests of the runtime on the real Kafka: topics, generated input, the runtime as a child process, read_committed output.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { END_OF_INPUT_HEADER, KafkajsClient, type FetchedMessage } from '@sluice/runtime';
// The generator is not part of the runtime's public surface; the tests use it as the engine does.
import type { GeneratorOptions } from '../../../runtime-image/src/connectors/generator/options.js';
import { GeneratorSource } from '../../../runtime-image/src/connectors/generator/source.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const mainScript = join(repo, 'runtime-image', 'src', 'main.ts');

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

const scratch: string[] = [];

/** A fresh temporary folder (state, snapshots, job files), removed by `removeScratchDirs`. */
export function scratchDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-e2e-${what}-`));
  scratch.push(dir);
  return dir;
}

/** Removes the folders `scratchDir` made; for afterAll. */
export function removeScratchDirs(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function kafka(brokers: string[]): Kafka {
  return new Kafka({ brokers, clientId: 'sluice-e2e', logLevel: logLevel.NOTHING });
}

export async function createTopics(brokers: string[], topics: string[], partitions: number): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions })) });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates `topic` with `partitions` and produces `count` hand-made transactions to it: one a second from
 * 2025-12-05T00:00Z, customer `c<i mod customers>`, amount i, round-robin over the partitions.
 */
export async function produceTransactions(
  brokers: string[],
  topic: string,
  { count, partitions, customers }: { count: number; partitions: number; customers: number },
): Promise<void> {
  await createTopics(brokers, [topic], partitions);
  const producer = kafka(brokers).producer();
  await producer.connect();
  const at = Date.parse('2025-12-05T00:00:00Z');
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        partition: i % partitions,
        value: JSON.stringify({ customer_id: `c${i % customers}`, amount: i, timestamp: new Date(at + i * 1000).toISOString() }),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Produces the generator's events to their partitions as JSON, then `extra` raw values to partition 0, then (unless `endOfInput` is false) an end-of-input marker per partition. */
export async function produceGenerated(brokers: string[], topic: string, options: GeneratorOptions, extra: string[] = [], endOfInput = true): Promise<number> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let count = 0;
  try {
    const source = new GeneratorSource(options);
    for await (const batch of source.read()) {
      await producer.send({
        topic,
        messages: batch.records.map((r) => ({ partition: batch.partition, key: String(r.value.customer_id), value: JSON.stringify(r.value) })),
      });
      count += batch.records.length;
    }
    if (extra.length > 0) await producer.send({ topic, messages: extra.map((value) => ({ partition: 0, key: null, value })) });
    const partitions = source.options.partitions;
    if (endOfInput)
      await producer.send({
        topic,
        messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
      });
  } finally {
    await producer.disconnect();
  }
  return count;
}

export interface FraudJobTopics {
  name: string;
  input: string;
  output: string;
  late: string;
  deadLetter: string;
}

/**
 * The spec of the fraud-velocity example job (examples/fraud-velocity/job.yaml) on the given topics, with the Kafka sink
 * only; `before` are pipeline steps put in front of its keyBy (a filter, say).
 */
export function fraudJobSpec(topics: Omit<FraudJobTopics, 'name'>, before: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    sources: [
      {
        name: 'transactions',
        kafka: { topic: topics.input, keyedBy: 'customer_id' },
        format: 'json',
        eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
      },
    ],
    pipeline: [
      ...before,
      { keyBy: { field: 'customer_id' } },
      {
        window: { type: 'tumbling', size: '5m', allowedLateness: '1m' },
        aggregate: [
          { name: 'txn_count', fn: 'count' },
          { name: 'txn_sum', fn: 'sum', field: 'amount' },
        ],
      },
    ],
    sinks: [{ name: 'features-topic', kafka: { topic: topics.output, key: '{customer_id}' } }],
    lateOutput: { topic: topics.late },
    deadLetter: { topic: topics.deadLetter },
  };
}

/** A StreamJob manifest of `name` with `spec`, written to a scratch folder; returns its path (SLUICE_JOB_FILE). */
export function writeJobFile(name: string, spec: Record<string, unknown>): string {
  const file = join(scratchDir('job'), 'job.yaml');
  writeFileSync(file, stringify({ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { name }, spec }));
  return file;
}

/** The fraud-velocity example job on the given topics, with the Kafka sink only, written to a scratch folder. */
export function writeFraudJob(topics: FraudJobTopics): string {
  return writeJobFile(topics.name, fraudJobSpec(topics));
}

/**
 * The environment of one runtime pod of the fraud job over `input` (its output, late and dead-letter topics named after
 * `name`), on its own state folder; `more` adds or replaces variables.
 */
export function fraudPodEnv(
  brokers: string[],
  { name, input, ordinal = 0, parallelism = 1 }: { name: string; input: string; ordinal?: number; parallelism?: number },
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    SLUICE_JOB_FILE: writeFraudJob({ name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` }),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_POD_ORDINAL: String(ordinal),
    SLUICE_PARALLELISM: String(parallelism),
    ...more,
  };
}

export interface RuntimeProcess {
  child: ChildProcess;
  /** Every JSON log event the process wrote so far. */
  events: Record<string, unknown>[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once `count` events named `event` were logged. */
  waitForEvents(event: string, count: number): Promise<void>;
  stderr(): string;
  /** Resolves with the exit code; fails with the process's output when it is not `expected`. */
  exitsWith(expected: number | null): Promise<void>;
  /** A request to its control API with its SLUICE_CONTROL_TOKEN: the status and the JSON body. */
  request(method: string, path: string, body?: object): Promise<{ status: number; body: unknown }>;
  /** The JSON body of a control API request (with a JSON body when given); fails on a status that is not 2xx. */
  control(method: string, path: string, body?: object): Promise<unknown>;
}

/** Starts the runtime's main as a child process (through tsx), on its own state folder. */
export function startRuntime(env: Record<string, string>): RuntimeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript], {
    cwd: repo,
    env: { ...process.env, SLUICE_HTTP_PORT: '0', SLUICE_POD_ORDINAL: '0', SLUICE_PARALLELISM: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters: { event: string; count: number; resolve: () => void }[] = [];
  let errors = '';
  let pending = '';
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (events.filter((e) => e.event === waiter.event).length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const request = async (method: string, path: string, json?: object): Promise<{ status: number; body: unknown }> => {
    const listening = events.find((e) => e.event === 'listening') as { port: number } | undefined;
    if (listening === undefined) throw new Error(`${method} ${path}: the runtime has not logged "listening" yet; wait for it first`);
    const response = await fetch(`http://127.0.0.1:${listening.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${env.SLUICE_CONTROL_TOKEN ?? ''}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
  return {
    child,
    request,
    control: async (method, path, json) => {
      const { status, body } = await request(method, path, json);
      if (status < 200 || status >= 300) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(body)}`);
      return body;
    },
    events,
    exited,
    stderr: () => errors,
    exitsWith: async (expected) => {
      const code = await exited;
      if (code !== expected)
        throw new Error(`the runtime exited with ${code}, not ${expected}; stderr:\n${errors}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
    },
    waitForEvents: (event, count) =>
      Promise.race([
        new Promise<void>((resolve) => {
          waiters.push({ event, count, resolve });
          check();
        }),
        exited.then((code) => {
          throw new Error(
            `the runtime exited (${code}) before logging ${count} "${event}" events; stderr:\n${errors}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}`,
          );
        }),
      ]),
  };
}

/** Each partition's end offset: where the next record of the topic will be written. */
export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, offset }) => [partition, Number(offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Runs the runtime once per entry of `commitCounts`, each time killing it with SIGKILL after that many commits of its run. */
export async function killAfterCommits(env: Record<string, string>, commitCounts: readonly number[]): Promise<void> {
  for (const commits of commitCounts) {
    const killed = startRuntime(env);
    await killed.waitForEvents('committed', commits);
    killed.child.kill('SIGKILL');
    await killed.exitsWith(null);
  }
}

/** Every committed message of the topic (read_committed, from the beginning to its current end). */
export async function readCommitted(brokers: string[], topic: string): Promise<FetchedMessage[]> {
  const client = new KafkajsClient({ brokers });
  try {
    const ends = await client.endOffsets(topic);
    const remaining = new Map([...ends].filter(([, end]) => end > 0));
    const messages: FetchedMessage[] = [];
    if (remaining.size === 0) return messages;
    let done!: () => void;
    let failed!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      done = resolve;
      failed = reject;
    });
    const advance = (_topic: string, partition: number, next: number): void => {
      if (next >= (remaining.get(partition) ?? Number.POSITIVE_INFINITY)) remaining.delete(partition);
      if (remaining.size === 0) done();
    };
    const fetch = await client.fetch({
      topics: [topic],
      partitions: [...ends.keys()],
      start: () => 0,
      readCommitted: true,
      onBatch: (batch) => {
        messages.push(...batch.messages);
        advance(topic, batch.partition, batch.next);
        return Promise.resolve();
      },
      onPosition: advance,
      onError: failed,
    });
    try {
      await finished;
    } finally {
      await fetch.stop();
    }
    return messages;
  } finally {
    await client.close();
  }
}

/** The values of messages as sorted JSON strings: a multiset compares as a sorted list. */
export function multiset(messages: readonly FetchedMessage[]): string[] {
  return messages.map((m) => `${m.key?.toString() ?? ''} ${m.value?.toString() ?? ''}`).sort();
}
