// One runtime pod: the job's exactly-once task set with its store, sinks and metrics, and what the control API asks of it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PartitionStatus, RuntimeStatus, SavepointRequest, SavepointResponse, StopResponse } from '@sluice/crds';
import type { CompiledJob } from '../compiler/job.js';
import type { Sink } from '../connectors/sink.js';
import { ExactlyOnceTaskSet, type CommitReport } from '../kafka/exactly-once.js';
import { KafkajsClient } from '../kafka/kafkajs-client.js';
import { TransactionOutbox } from '../kafka/sink.js';
import { openSnapshotStorage } from '../snapshot/open-storage.js';
import { writeSnapshot } from '../snapshot/writer.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import type { StateStore } from '../state/store.js';
import { join } from 'node:path';
import { ConfigError, type RuntimeConfig } from './config.js';
import { readJobFile } from './job-file.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import { openSinks } from './sinks.js';

/** A control request the pod cannot serve now; the code and message go back to the caller. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RuntimeHooks {
  /** After each transaction: the process logs it. */
  onCommit?: (report: CommitReport) => void;
}

export class Runtime {
  readonly metrics: RuntimeMetrics;
  readonly taskSet: ExactlyOnceTaskSet;
  lastSavepoint: string | null = null;
  readonly #sinks: readonly Sink[];
  #recordsIn = 0;
  #recordsOut = 0;

  private constructor(
    readonly config: RuntimeConfig,
    readonly job: CompiledJob,
    readonly specHash: string,
    private readonly store: StateStore,
    private readonly client: KafkajsClient,
    hooks: RuntimeHooks,
  ) {
    const last = job.dataflow.nodes.at(-1)?.id ?? 'source';
    this.metrics = createMetrics(job.name, last);
    const outbox = new TransactionOutbox();
    const counted = this.metrics.events;
    this.#sinks = openSinks(job.sinks, outbox, config.redisUrl);
    this.taskSet = new ExactlyOnceTaskSet({
      job,
      client,
      store,
      ordinal: config.ordinal,
      parallelism: config.parallelism,
      sinks: this.#sinks,
      outbox,
      endMarkers: config.endMarkers,
      ...(config.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: config.maxBytesPerPartition }),
      events: {
        ...counted,
        recordsIn: (partition, count) => {
          this.#recordsIn += count;
          counted.recordsIn?.(partition, count);
        },
        resultsOut: (partition, count) => {
          this.#recordsOut += count;
          counted.resultsOut?.(partition, count);
        },
        committed: (report) => {
          counted.committed?.(report);
          hooks.onCommit?.(report);
        },
      },
    });
  }

  /** Reads and compiles the job, opens the state store and the Kafka client; `start` then restores and runs. */
  static async open(config: RuntimeConfig, hooks: RuntimeHooks = {}): Promise<Runtime> {
    const job = await readJobFile(config.jobFile);
    if (job.source.kind !== 'kafka') throw new ConfigError(`job ${job.name} reads a ${job.source.kind} source; a runtime pod reads Kafka (run it with streamctl run instead)`);
    const specHash = createHash('sha256').update(await readFile(config.jobFile)).digest('hex').slice(0, 16);
    const store = await RocksDbStore.open(join(config.stateDir, job.name));
    const client = new KafkajsClient({ brokers: config.brokers, clientId: `sluice-${job.name}-${config.ordinal}` });
    return new Runtime(config, job, specHash, store, client, hooks);
  }

  get ready(): boolean {
    return this.taskSet.phase === 'running';
  }

  start(): Promise<void> {
    return this.taskSet.start();
  }

  status(): RuntimeStatus {
    const lag = this.taskSet.lag;
    const positions = this.taskSet.positions();
    this.metrics.observe(positions.map(({ partition, watermark }) => ({ partition, lag: lag.get(partition), watermark })));
    const partitions: PartitionStatus[] = positions.map(({ partition, offset, watermark }) => ({
      partition,
      offset,
      lag: lag.get(partition) ?? null,
      watermark: watermark === Number.POSITIVE_INFINITY ? 'Infinity' : Number.isFinite(watermark) ? watermark : null,
    }));
    return {
      job: this.job.name,
      ordinal: this.config.ordinal,
      parallelism: this.config.parallelism,
      phase: this.taskSet.phase,
      partitions,
      recordsIn: this.#recordsIn,
      recordsOut: this.#recordsOut,
      lastSavepoint: this.lastSavepoint,
    };
  }

  /** Takes this pod's part of a savepoint between two transactions; resolves once it is durable. */
  async savepoint(request: SavepointRequest = {}): Promise<SavepointResponse> {
    const location = this.config.snapshotLocation;
    if (location === undefined) throw new ControlError('SLUICE_E_NO_SNAPSHOT_LOCATION', 'this pod has no SLUICE_SNAPSHOT_LOCATION: set spec.checkpoints.location on the job', 409);
    if (!this.ready) throw new ControlError('SLUICE_E_NOT_RUNNING', `the job is ${this.taskSet.phase}, not running: take the savepoint once it runs`, 409);
    const started = Date.now();
    const storage = openSnapshotStorage(location);
    try {
      const written = await this.taskSet.atCommitPoint(() =>
        writeSnapshot({
          storage,
          kind: 'savepoint',
          job: this.job.name,
          specHash: this.specHash,
          parallelism: this.config.parallelism,
          checkpoint: this.store.checkpoint(this.taskSet.partitions),
          // The changelog position is not kept: a savepoint restores state and source offsets, not a changelog tail.
          tasks: this.taskSet.positions().map(({ partition, offset, watermark }) => ({ partition, sourceOffset: offset, changelogOffset: null, watermark })),
          ...(request.id === undefined ? {} : { shared: { id: request.id, writers: this.config.parallelism, ordinal: this.config.ordinal } }),
        }),
      );
      const bytes = written.manifest?.partitions.reduce((sum, p) => sum + p.bytes, 0) ?? 0;
      this.metrics.checkpoint((Date.now() - started) / 1000, bytes);
      this.lastSavepoint = written.location;
      return { id: written.id, location: written.location, complete: written.manifest !== undefined };
    } finally {
      storage.close();
    }
  }

  /** Commits, writes a savepoint part when asked, and stops reading; the process exits once `close` returns. */
  async stop(options: { savepoint: boolean }): Promise<StopResponse> {
    const savepoint = options.savepoint ? await this.savepoint() : null;
    await this.taskSet.stop();
    return { stopped: true, savepoint };
  }

  async close(): Promise<void> {
    await this.taskSet.stop();
    for (const sink of this.#sinks) await sink.close();
    await this.client.close();
    await this.store.close();
  }
}
