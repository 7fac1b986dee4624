// The runner: one process runs a compiled job over every partition of its source, one task per partition, with
// RocksDB state, commits every commit interval, an optional savepoint at the end, and counts for progress and summary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledJob, JobTable } from '../compiler/job.js';
import type { Positions, Source, SourceBatch } from '../connectors/source.js';
import { isUtf8 } from 'node:buffer';
import { boundedReason, type Sink, type SinkRecord } from '../connectors/sink.js';
import type { StreamRecord } from '../dataflow/operator.js';
import { Task } from '../dataflow/task.js';
import { messageOf } from '../error-message.js';
import { tableChangeOfLine } from '../join/table-lines.js';
import { JsonLinesSource } from '../connectors/file/source.js';
import { TableJoinTasks } from '../join/table-tasks.js';
import { JoinedStreams } from '../join/joined-streams.js';
import { openSnapshotStorage } from '../snapshot/open-storage.js';
import { requireSnapshot, restorePartition } from '../snapshot/reader.js';
import { writeSnapshot } from '../snapshot/writer.js';
import { CacheBudget } from '../state/cache-budget.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import { jobStateTtl, operatorStates } from '../state/job-state.js';
import { repartitionStages, type RunnerStages, type SourceTask } from '../repartition/local.js';
import { TaskState } from '../state/task-state.js';
import type { RunCounts, RunSummary } from './progress.js';

export interface RunOptions {
  job: CompiledJob;
  /** Identifies the spec in snapshots: a restore of another spec's savepoint is allowed but recorded. */
  specHash: string;
  source: Source;
  /** The inputs of the job's tables (join steps), by source name: each is read to its end before the stream starts. */
  tables?: ReadonlyMap<string, Source>;
  /** Every result goes to each of these, in emission order. */
  results: readonly Sink[];
  /** Records too late for every window (their values). */
  late?: Sink;
  /** `{ reason, record }` or `{ reason, raw }` per dead letter. */
  deadLetters?: Sink;
  /** The RocksDB folder; a fresh temporary one when absent. */
  stateDir?: string;
  /** Keys the write-back caches hold together; default 100 000. */
  cacheSize?: number;
  /** Take a savepoint here when the run ends (end of input or stop). */
  savepointDir?: string;
  /** Start from this snapshot (a savepoint's location, or a folder whose newest snapshot of the job is taken). */
  restore?: string;
  /** Recorded in a savepoint; the tasks are the source's partitions whatever it is. */
  parallelism?: number;
  /** Stops the run cleanly: the source is closed, state flushed, sinks committed. */
  signal?: AbortSignal;
  /** Called after every commit, with the counts so far and the least watermark of the tasks. */
  onCommit?: (counts: RunCounts, seconds: number, watermark: number) => void | Promise<void>;
  /** Called before every commit of the sinks. */
  beforeCommit?: () => void;
}

interface RunningTask {
  task: SourceTask;
  state: TaskState;
  /** The source offset to resume this partition from. */
  next: number;
}

export async function runJob(options: RunOptions): Promise<RunSummary> {
  const { job, source } = options;
  const started = performance.now();
  // A state folder of our own making lives as long as the run: a savepoint is what outlives it.
  const temporary = options.stateDir === undefined ? mkdtempSync(join(tmpdir(), `sluice-${job.name}-state-`)) : undefined;
  const store = await RocksDbStore.open(options.stateDir ?? temporary!);
  const cache = new CacheBudget(options.cacheSize ?? 100_000);
  const counts: RunCounts = { recordsIn: 0, resultsOut: 0, late: 0, deadLettered: 0 };
  const tasks = new Map<number, RunningTask>();

  const send = (sink: Sink | undefined, record: SinkRecord): void => {
    const refused = sink?.write(record);
    if (refused !== undefined) deadLetter(refused.reason, { reason: refused.reason, record: refused.record.value });
  };
  const deadLetter = (reason: string, line: Record<string, unknown>): void => {
    counts.deadLettered += 1;
    const bounded = boundedReason(reason);
    const refused = options.deadLetters?.write({ value: { reason: bounded, ...line }, timestamp: Date.now() });
    // A record the output cannot hold (not JSON-writable) is still written: its reason, and why the record is not there.
    if (refused !== undefined)
      options.deadLetters?.write({ value: { reason: boundedReason(`${bounded}; the record is left out: ${refused.reason}`) }, timestamp: Date.now() });
  };
  const outputs = {
    result: (record: StreamRecord) => {
      counts.resultsOut += 1;
      for (const sink of options.results) send(sink, record);
    },
    late: (record: StreamRecord) => {
      counts.late += 1;
      send(options.late, record);
    },
    deadLetter: ({ reason, record }: { reason: string; record: StreamRecord }) => deadLetter(reason, { record: record.value }),
  };
  let stages: RunnerStages | undefined;
  const tables = new TableJoinTasks();
  const open = (partition: number, watermark?: number, next = 0): RunningTask => {
    const state = new TaskState({ store, partition, cache, ttl: jobStateTtl(job) });
    const task = stages?.open(partition, state) ?? new Task(tables.wrap(job.dataflow, partition), { state: operatorStates(job.dataflow, state), outputs });
    if (watermark !== undefined) task.restore(watermark);
    const running = { task, state, next };
    tasks.set(partition, running);
    return running;
  };

  try {
    stages = await repartitionStages(options, (partition) => new TaskState({ store, partition, cache, ttl: jobStateTtl(job) }), outputs);
    if (stages !== undefined && job.tables.length > 0) {
      throw new Error(
        `job ${job.name} joins a table and repartitions its stream (${job.repartition!.path}); streamctl run runs such a job on one partition: read one --input file, or leave --parallelism out`,
      );
    }
    const from = await restore(options, store, open);
    stages?.started(from, tasks, open);
    let joined: JoinedStreams | undefined;
    if (job.tables.length > 0) {
      // Every task exists before the tables are read, so each gets its share of them.
      const partitions = await source.partitions();
      for (const partition of partitions) if (!tasks.has(partition)) open(partition);
      for (const table of job.tables) if (table.interval !== true) await readTable(table, partitions.length, options, tables, deadLetter);
      joined = await JoinedStreams.open(job.tables, options.tables, partitions.length, tables, deadLetter);
    }
    let lastCommit = performance.now();
    const commit = async (): Promise<void> => {
      // Score steps emit records when their calls finish: the commit waits until every record read has left them.
      const settling = [...tasks.values()].flatMap(({ task }) => (task instanceof Task ? [task.settle()] : []));
      for (const letIn of await Promise.all(settling)) letIn();
      for (const { state } of tasks.values()) state.flush();
      stages?.flush();
      options.beforeCommit?.();
      await Promise.all(allSinks(options).map((sink) => sink.commit()));
      lastCommit = performance.now();
      await options.onCommit?.(counts, (lastCommit - started) / 1000, leastWatermark(tasks));
    };
    const stop = (): void => void source.close();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const batch of source.read({ from })) {
        const running = tasks.get(batch.partition) ?? open(batch.partition);
        processBatch(batch, running, job, counts, deadLetter);
        // A score step holds records while its calls run; with its queue full, reading waits (backpressure).
        const room = running.task instanceof Task ? running.task.room() : undefined;
        if (room !== undefined) await room;
        await joined?.step();
        if (performance.now() - lastCommit >= job.commitInterval) await commit();
        if (options.signal?.aborted) break;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
    if (source.bounded && !options.signal?.aborted) {
      await joined?.drain();
      for (const { task } of tasks.values()) task.endOfInput();
    }
    await commit();
    const seconds = (performance.now() - started) / 1000;
    const summary: RunSummary = { ...counts, seconds, eventsPerSecond: seconds > 0 ? counts.recordsIn / seconds : 0 };
    if (options.savepointDir !== undefined) summary.savepoint = await savepoint(options, store, tasks);
    return summary;
  } finally {
    await Promise.allSettled(allSinks(options).map((sink) => sink.close()));
    await store.close();
    if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * Reads a table's input from where the tasks' state says they stopped to its end, into the tasks' join state. A
 * co-partitioned table's partition p goes to task p, so the partition counts must be equal; a broadcast one goes to all.
 */
async function readTable(
  table: JobTable,
  streamPartitions: number,
  options: RunOptions,
  tables: TableJoinTasks,
  deadLetter: (reason: string, line: Record<string, unknown>) => void,
): Promise<void> {
  const name = table.source.name;
  const input = options.tables?.get(name);
  if (input === undefined) throw new Error(`the join ${table.joinId} reads the table ${name}, and the run has no input for it`);
  const partitions = await input.partitions();
  if (!table.broadcast && partitions.length !== streamPartitions) {
    throw new Error(
      `the join ${table.joinId} reads the table ${name} co-partitioned with the stream, but the table has ${partitions.length} partition(s) and the stream ${streamPartitions}: ` +
        'task p holds table partition p, so give both the same partition count, or set broadcast: true on the join for a table every task holds whole',
    );
  }
  const where = input instanceof JsonLinesSource ? input.path : name;
  const read = tables.partitionsRead(name, partitions);
  for await (const batch of input.read({ partitions: read, from: tables.positions(name, read) })) {
    for (const record of batch.records) {
      const change = tableChangeOfLine(record, where);
      const refused = 'reason' in change ? change.reason : tables.apply(name, change).rejected?.reason;
      if (refused !== undefined) deadLetter(refused, { record: record.value });
    }
    for (const rejected of batch.rejected) deadLetter(rejected.reason, rawLine(rejected.raw));
    tables.reached(name, batch.partition, batch.next);
  }
}

/** Restores every partition of the snapshot into the store and its task; returns where each partition resumes. */
async function restore(
  options: RunOptions,
  store: RocksDbStore,
  open: (partition: number, watermark?: number, next?: number) => RunningTask,
): Promise<Positions> {
  if (options.restore === undefined) return {};
  const { storage, manifest } = await requireSnapshot(options.restore, { job: options.job.name });
  try {
    const from: Record<number, number> = {};
    for (const { partition } of manifest.partitions) {
      const position = await restorePartition({ storage, manifest, partition, store });
      open(partition, position.watermark, position.sourceOffset);
      from[partition] = position.sourceOffset;
    }
    return from;
  } finally {
    storage.close();
  }
}

function processBatch(
  batch: SourceBatch,
  running: RunningTask,
  job: CompiledJob,
  counts: RunCounts,
  deadLetter: (reason: string, line: Record<string, unknown>) => void,
): void {
  const { task } = running;
  const eventTime = job.eventTime;
  // Rejected inputs are interleaved by offset, so dead letters appear in input order.
  let rejected = 0;
  for (const record of batch.records) {
    while (rejected < batch.rejected.length && batch.rejected[rejected]!.offset < record.offset) reject(batch.rejected[rejected++]!);
    const broken = job.rules?.check(record.value);
    if (broken !== undefined) {
      counts.recordsIn += 1;
      countRules(counts, broken.rules);
      deadLetter(broken.reason, { rules: broken.rules, record: record.value });
      continue;
    }
    let timestamp: number;
    try {
      timestamp = eventTime === undefined ? Date.now() : eventTime.extract(record.value);
    } catch (error) {
      counts.recordsIn += 1;
      deadLetter(messageOf(error), { record: record.value });
      continue;
    }
    const before = task.counts.recordsIn;
    task.processRecord(record.value, timestamp);
    counts.recordsIn += task.counts.recordsIn - before;
  }
  while (rejected < batch.rejected.length) reject(batch.rejected[rejected++]!);
  running.next = batch.next;

  function reject(input: SourceBatch['rejected'][number]): void {
    counts.recordsIn += 1;
    deadLetter(input.reason, rawLine(input.raw));
  }
}

/** Each rule a record broke, counted by name: the summary says which rules the dead letters broke. */
function countRules(counts: RunCounts, rules: readonly string[]): void {
  const byRule = (counts.ruleViolations ??= {});
  for (const rule of rules) byRule[rule] = (byRule[rule] ?? 0) + 1;
}

/** The input's bytes in a dead-letter line: as text where they are UTF-8, else in base64, so they are kept byte for byte. */
function rawLine(raw: Buffer): { raw: string } | { rawBase64: string } {
  return isUtf8(raw) ? { raw: raw.toString('utf8') } : { rawBase64: raw.toString('base64') };
}

function allSinks(options: RunOptions): Sink[] {
  return [...options.results, ...(options.late === undefined ? [] : [options.late]), ...(options.deadLetters === undefined ? [] : [options.deadLetters])];
}

function leastWatermark(tasks: Map<number, RunningTask>): number {
  let least = Number.POSITIVE_INFINITY;
  for (const { task } of tasks.values()) least = Math.min(least, task.watermark);
  return tasks.size === 0 ? Number.NEGATIVE_INFINITY : least;
}

async function savepoint(options: RunOptions, store: RocksDbStore, tasks: Map<number, RunningTask>): Promise<string> {
  const storage = openSnapshotStorage(options.savepointDir!);
  try {
    const partitions = [...tasks.keys()].sort((a, b) => a - b);
    const written = await writeSnapshot({
      storage,
      kind: 'savepoint',
      job: options.job.name,
      specHash: options.specHash,
      parallelism: options.parallelism ?? 1,
      checkpoint: store.checkpoint(partitions),
      tasks: partitions.map((partition) => ({
        partition,
        sourceOffset: tasks.get(partition)!.next,
        changelogOffset: null,
        watermark: tasks.get(partition)!.task.watermark,
      })),
    });
    return written.location;
  } finally {
    storage.close();
  }
}
