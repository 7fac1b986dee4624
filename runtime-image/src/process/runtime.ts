// One runtime pod: the job's exactly-once task set with its store, sinks and metrics, and what the control API asks of it.
import type { ErasureReport } from '../erasure/apply.js';
import { erasureMetric } from '../erasure/metrics.js';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CheckpointStatus, PartitionStatus, RuntimeStatus, SavepointRequest, SavepointResponse, StopRequest, StopResponse } from '@sluice/crds';
import { RUNTIME_ENV } from '@sluice/crds';
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '../error-message.js';
import type { CompiledJob } from '../compiler/job.js';
import type { Sink } from '../connectors/sink.js';
import { ExactlyOnceTaskSet, type CommitReport, type ExactlyOnceOptions } from '../kafka/exactly-once.js';
import { endedRefusal, RepartitionedTaskSet } from '../repartition/kafka-stage.js';
import { repartitionedSnapshotTag } from '../repartition/kafka.js';
import { KafkajsClient } from '../kafka/kafkajs-client.js';
import { kafkaConnectionFromDir } from '@sluice/crds';
import { TransactionOutbox } from '../kafka/sink.js';
import { openSnapshotStorage } from '../snapshot/open-storage.js';
import { applyRetention } from '../snapshot/retention.js';
import type { SnapshotStorage } from '../snapshot/storage.js';
import { writeSnapshot, type TaskPosition, type WrittenSnapshot } from '../snapshot/writer.js';
import { RocksDbStore } from '../state/rocksdb-store.js';
import type { StateStore, StoreCheckpoint } from '../state/store.js';
import { systemClock, type RuntimeClock } from '../time/clock.js';
import { join } from 'node:path';
import { ConfigError, type RuntimeConfig } from './config.js';
import { readJobFile } from './job-file.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import { registerOperatorMetrics } from '../score/metrics.js';
import { openSinks } from './sinks.js';

/** A control request the pod cannot serve now; the code and message go back to the caller. */
/** The control API's refusals that the same request can get past later: once the job runs, once the storage answers. */
const RETRIABLE_CONTROL = new Set(['SLUICE_E_NOT_RUNNING', 'SLUICE_E_SAVEPOINT_STORAGE']);

export class ControlError extends SluiceError {
  constructor(
    override readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message, { retriable: RETRIABLE_CONTROL.has(code) });
  }
}

export interface RuntimeHooks {
  /** After each transaction: the process logs it. */
  onCommit?: (report: CommitReport) => void;
  /** After each periodic checkpoint, or its failure (the job goes on: the changelog alone can restore it). */
  onCheckpoint?: (result: { location: string; seconds: number } | { error: unknown }) => void;
  /** On restore: a partition's latest checkpoint could not be read, so its whole changelog is replayed instead. */
  onSnapshotUnreadable?: (partition: number, error: Error) => void;
  /** A repartitioned job deleted its repartition topic's records stage 2 committed past, or could not (it tries again). */
  onRepartitionPurged?: NonNullable<ExactlyOnceOptions['events']>['repartitionPurged'];
  /** A GDPR erasure was applied (spec.erasure): the process logs it, with the subject's hash only. */
  onErasure?: (report: ErasureReport) => void;
}

/** Checkpoints kept per partition; older ones are deleted after each new one. */
const CHECKPOINTS_KEPT = 3;

/**
 * How long a repartitioned job's savepoint waits for its repartition topic to drain: while it runs every pod's reading
 * is paused meanwhile, so not long; at a stop (every pod stopping at once, within the controller's stop timeout) longer.
 */
const REPARTITION_DRAIN_WHILE_RUNNING_MS = 60_000;
const REPARTITION_DRAIN_AT_STOP_MS = 5 * 60_000;

/** What a snapshot takes at the commit point: the state as of that commit and where each task stood. */
interface PinnedState {
  checkpoint: StoreCheckpoint;
  tasks: TaskPosition[];
}

export class Runtime {
  readonly metrics: RuntimeMetrics;
  /** The job's tasks; a job with a repartition stage runs two task sets, one per stage. */
  readonly taskSet: ExactlyOnceTaskSet | RepartitionedTaskSet;
  lastSavepoint: string | null = null;
  readonly #sinks: readonly Sink[];
  /** Where checkpoints go (SLUICE_SNAPSHOT_LOCATION). */
  readonly #checkpoints: SnapshotStorage | undefined;
  /** Where savepoints go (SLUICE_SAVEPOINT_LOCATION, else the checkpoints' storage). */
  readonly #savepoints: SnapshotStorage | undefined;
  /** The first POST /stop and its answer: a retry of the same stop gets the same answer. */
  #stop: { request: StopRequest; answer: Promise<StopResponse> } | undefined;
  /** Set once a stop stopped processing; it stays stopped even when its savepoint then failed. */
  #stopped = false;
  #closing: Promise<void> | undefined;
  readonly #hooks: RuntimeHooks;
  readonly #clock: RuntimeClock;
  /** Stops the periodic checkpoints. */
  #stopCheckpoints: (() => void) | undefined;
  /** The checkpoint being taken, if any: the next one waits for it, and close waits for it. */
  #checkpointing: Promise<void> | undefined;
  /** How the periodic checkpoints go, epoch ms: /status, /readyz and the metrics report it. */
  readonly #checkpointProgress: { lastCompletedAt: number | null; inProgressSince: number | null; lastError: string | null } = {
    lastCompletedAt: null,
    inProgressSince: null,
    lastError: null,
  };
  #recordsIn = 0;
  #recordsOut = 0;

  private constructor(
    readonly config: RuntimeConfig,
    readonly job: CompiledJob,
    readonly specHash: string,
    private readonly store: StateStore,
    private readonly client: KafkajsClient,
    hooks: RuntimeHooks,
    clock: RuntimeClock,
  ) {
    this.#clock = clock;
    this.metrics = createMetrics(
      job.name,
      () => this.taskSet.positions().map(({ partition, watermark }) => ({ partition, lag: this.taskSet.lag.get(partition), watermark })),
      () => this.#checkpointProgress,
      clock.now,
    );
    registerOperatorMetrics(this.metrics.registry, job.dataflow);
    if (job.rules !== undefined) this.metrics.rules(job.rules.source, job.rules.names);
    const outbox = new TransactionOutbox();
    const countErasure = erasureMetric(this.metrics.registry);
    const counted = this.metrics.events;
    this.#hooks = hooks;
    // A replacement pod has the same application id and ordinal: its PostgreSQL sinks fence the pod it replaces.
    this.#sinks = openSinks(job.sinks, outbox, { ...config, writer: `${config.applicationId ?? job.name}/${config.ordinal}` });
    const open = (location: string | undefined): SnapshotStorage | undefined =>
      location === undefined ? undefined : openSnapshotStorage(location, { s3: config.s3 });
    this.#checkpoints = open(config.snapshotLocation);
    this.#savepoints = config.savepointLocation === config.snapshotLocation ? this.#checkpoints : open(config.savepointLocation);
    const taskSetOptions: ExactlyOnceOptions = {
      job,
      client,
      store,
      ordinal: config.ordinal,
      parallelism: config.parallelism,
      sinks: this.#sinks,
      outbox,
      endMarkers: config.endMarkers,
      snapshots: this.#checkpoints === undefined ? undefined : { storage: this.#checkpoints, specHash },
      restoreFrom: config.restoreFrom,
      discardState: config.discardState,
      clock,
      ...(config.applicationId === undefined ? {} : { applicationId: config.applicationId }),
      s3: config.s3,
      ...(config.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: config.maxBytesPerPartition }),
      ...(config.repartitionPurgeIntervalMs === undefined ? {} : { repartitionPurgeIntervalMs: config.repartitionPurgeIntervalMs }),
      events: {
        ...counted,
        recordsIn: (partition, count) => {
          this.#recordsIn += count;
          counted.recordsIn?.(partition, count);
        },
        resultsOut: (partition, count) => {
          this.#recordsOut += count;
        },
        committed: (report) => {
          counted.committed?.(report);
          hooks.onCommit?.(report);
        },
        snapshotUnreadable: (partition, error) => hooks.onSnapshotUnreadable?.(partition, error),
        repartitionPurged: (topic, result) => hooks.onRepartitionPurged?.(topic, result),
        erased: (report) => {
          countErasure(report);
          hooks.onErasure?.(report);
        },
      },
    };
    this.taskSet = job.repartition === undefined ? new ExactlyOnceTaskSet(taskSetOptions) : new RepartitionedTaskSet(taskSetOptions);
  }

  /** Reads and compiles the job, opens the state store and the Kafka client; `start` then restores and runs. */
  /** Compiles the job and opens its store and clients; `clock` times the checkpoints (a test's manual one moves them). */
  static async open(config: RuntimeConfig, hooks: RuntimeHooks = {}, clock: RuntimeClock = systemClock): Promise<Runtime> {
    const job = await readJobFile(config.jobFile, { maskKey: config.maskKey === undefined ? undefined : Buffer.from(config.maskKey, 'utf8') });
    if (job.source.kind !== 'kafka')
      throw new ConfigError(`job ${job.name} reads a ${job.source.kind} source; a runtime pod reads Kafka (run it with streamctl run instead)`);
    const hash = createHash('sha256')
      .update(await readFile(config.jobFile))
      .digest('hex')
      .slice(0, 16);
    const specHash = job.repartition === undefined ? hash : `${hash}${repartitionedSnapshotTag(job.repartition)}`;
    const store = await RocksDbStore.open(join(config.stateDir, job.name));
    const client = new KafkajsClient({
      brokers: config.brokers,
      clientId: `sluice-${job.name}-${config.ordinal}`,
      connection: kafkaConnectionFromDir(config.kafkaSecretDir),
    });
    return new Runtime(config, job, specHash, store, client, hooks, clock);
  }

  get ready(): boolean {
    return this.taskSet.phase === 'running';
  }

  /** Restores and starts the task set; then takes a checkpoint every interval, one at a time. */
  async start(): Promise<void> {
    // A sink's schema subject is looked up before the first result, so a missing subject stops the pod at start, not mid-job.
    for (const sink of this.#sinks) await sink.start?.();
    await this.taskSet.start();
    const interval = this.config.checkpointIntervalMs;
    if (interval === undefined || this.#checkpoints === undefined) return;
    this.#stopCheckpoints = this.#clock.every(interval, () => {
      if (this.#checkpointing !== undefined || !this.ready) return;
      this.#checkpointing = this.#checkpoint().finally(() => (this.#checkpointing = undefined));
    });
  }

  /** A failed checkpoint is reported and counted; the job goes on (its changelog alone can restore it) and the next interval tries again. */
  async #checkpoint(): Promise<void> {
    const progress = this.#checkpointProgress;
    const started = this.#clock.now();
    progress.inProgressSince = started;
    try {
      const written = await this.#snapshot('checkpoint');
      await applyRetention(this.#checkpoints!, { kind: 'checkpoint', job: this.job.name, count: CHECKPOINTS_KEPT });
      progress.lastCompletedAt = this.#clock.now();
      progress.lastError = null;
      this.#hooks.onCheckpoint?.({ location: written.location, seconds: (progress.lastCompletedAt - started) / 1000 });
    } catch (error) {
      progress.lastError = messageOf(error);
      this.metrics.checkpointFailed();
      this.#hooks.onCheckpoint?.({ error });
    } finally {
      progress.inProgressSince = null;
    }
  }

  /**
   * This pod's part of a snapshot of one commit point. Only the state is pinned there; the upload runs beside
   * processing, so a slow or hung S3 delays this snapshot (and the next checkpoint, which waits for it), never a commit.
   */
  async #snapshot(
    kind: 'checkpoint' | 'savepoint',
    shared?: { id: string; writers: number; ordinal: number },
    pin: () => Promise<PinnedState> = () => this.taskSet.atCommitPoint(() => this.#pin()),
  ): Promise<WrittenSnapshot> {
    const storage = (kind === 'checkpoint' ? this.#checkpoints : this.#savepoints)!;
    const started = this.#clock.now();
    const pinned = await pin();
    const written = await writeSnapshot({
      storage,
      kind,
      job: this.job.name,
      specHash: this.specHash,
      parallelism: this.config.parallelism,
      ...pinned,
      ...(shared === undefined ? {} : { shared }),
    });
    const bytes = written.manifest?.partitions.reduce((sum, p) => sum + p.bytes, 0) ?? 0;
    this.metrics.checkpoint((this.#clock.now() - started) / 1000, bytes);
    return written;
  }

  /**
   * At a commit point, what must be taken there: the store's point-in-time view of the owned partitions (RocksDB
   * iterators over one implicit snapshot, opened in one synchronous step, no copy), the changelog's end offsets
   * that view corresponds to (the next transaction waits for this), and the tasks' positions. The view is read
   * afterwards while the job goes on writing, and released by writeSnapshot.
   */
  async #pin(): Promise<PinnedState> {
    const checkpoint = this.store.checkpoint(this.taskSet.partitions);
    try {
      const changelog = await this.taskSet.changelogPositions();
      const tasks = this.taskSet
        .positions()
        .map(({ partition, offset, watermark }) => ({ partition, sourceOffset: offset, changelogOffset: changelog.get(partition) ?? null, watermark }));
      return { checkpoint, tasks };
    } catch (error) {
      checkpoint.release();
      throw error;
    }
  }

  /** How the periodic checkpoints go, as /status and /readyz report it. */
  checkpointStatus(): CheckpointStatus {
    const { lastCompletedAt, inProgressSince, lastError } = this.#checkpointProgress;
    const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());
    return { lastCompletedAt: iso(lastCompletedAt), inProgressSince: iso(inProgressSince), lastError };
  }

  status(): RuntimeStatus {
    const lag = this.taskSet.lag;
    const positions = this.taskSet.positions();
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
      checkpoint: this.checkpointStatus(),
    };
  }

  /** Takes this pod's part of a savepoint between two transactions; resolves once it is durable. */
  async savepoint(request: SavepointRequest = {}): Promise<SavepointResponse> {
    this.#requireSavepointLocation();
    if (!this.ready) throw new ControlError('SLUICE_E_NOT_RUNNING', `the job is ${this.taskSet.phase}, not running: take the savepoint once it runs`, 409);
    if (this.taskSet instanceof RepartitionedTaskSet && request.id === undefined && this.config.parallelism > 1) {
      throw new ControlError(
        'SLUICE_E_REPARTITIONED_SAVEPOINT',
        `job ${this.job.name} repartitions (${this.job.repartition!.path}) over ${this.config.parallelism} pods: a savepoint while it runs pauses every pod's reading until the repartition topic is drained, so every pod must be asked for it under one id at once: take it with streamctl savepoint (the controller asks them all)`,
        409,
      );
    }
    return this.#savepoint(request.id, { running: true });
  }

  #requireSavepointLocation(): void {
    if (this.#savepoints === undefined) {
      throw new ControlError(
        'SLUICE_E_NO_SNAPSHOT_LOCATION',
        `this pod has neither ${RUNTIME_ENV.savepointLocation} nor ${RUNTIME_ENV.snapshotLocation}: set spec.savepoints.location or spec.checkpoints.location on the job`,
        409,
      );
    }
  }

  async #savepoint(id: string | undefined, { running }: { running: boolean }): Promise<SavepointResponse> {
    const shared = id === undefined ? undefined : { id, writers: this.config.parallelism, ordinal: this.config.ordinal };
    const taskSet = this.taskSet;
    // A repartitioned job's savepoint must hold everything its stage 1 wrote before its offsets: while it runs, at a point
    // where the repartition topic is drained (a stop drained it already).
    const pin =
      running && taskSet instanceof RepartitionedTaskSet
        ? () => {
            const ended = taskSet.endedSourcePartitions();
            if (ended.length > 0) {
              throw new ControlError('SLUICE_E_REPARTITIONED_SAVEPOINT', endedRefusal(ended), 409);
            }
            return taskSet
              .atSavepointPoint(id ?? `savepoint-${randomUUID()}`, REPARTITION_DRAIN_WHILE_RUNNING_MS, () => this.#pin())
              .catch((error: unknown) => {
                throw new ControlError('SLUICE_E_SAVEPOINT_NOT_ALIGNED', `${messageOf(error)}; the job goes on running`, 503);
              });
          }
        : undefined;
    const written = await this.#snapshot('savepoint', shared, pin);
    this.lastSavepoint = written.location;
    return { id: written.id, location: written.location, complete: written.manifest !== undefined };
  }

  /** True once POST /stop stopped processing: the pod then stays stopped (phase finished) until the process is ended. */
  get stopRequested(): boolean {
    return this.#stopped;
  }

  /**
   * Stops processing with a final commit, writes this pod's savepoint part of exactly that commit when asked
   * (under the shared id when given), and closes the task set, Kafka and the store; `status()` answers on. The
   * same request again gets the same answer (a controller that crashed asks again); another one is refused. A
   * stop whose savepoint failed leaves the pod stopped without one: asking again retries the savepoint.
   */
  stop(request: StopRequest): Promise<StopResponse> {
    const first = this.#stop;
    if (first !== undefined) {
      if (first.request.savepoint === request.savepoint && first.request.id === request.id) return first.answer;
      return Promise.reject(
        new ControlError(
          'SLUICE_E_STOPPED',
          `this pod was stopped already by ${describeStop(first.request)}, not ${describeStop(request)}: delete the pod to run the job again, then stop it the way you want`,
          409,
        ),
      );
    }
    const answer = this.#stopNow(request);
    this.#stop = { request, answer };
    answer.catch(() => {
      if (this.#stop?.answer === answer) this.#stop = undefined;
    });
    return answer;
  }

  async #stopNow(request: StopRequest): Promise<StopResponse> {
    if (request.savepoint) this.#requireSavepointLocation();
    const { phase } = this.taskSet;
    if (phase === 'starting' || phase === 'restoring') {
      throw new ControlError(
        'SLUICE_E_NOT_RUNNING',
        `the job is ${phase}, not running: stop it once it runs, or delete the pod (it has processed nothing since its last commit)`,
        409,
      );
    }
    // Processing stops before the savepoint: a record processed after it would be committed past the savepoint, and the new spec restored from it would write its results again.
    if (request.savepoint) await this.#requireReachableSavepoints();
    this.#stopped = true;
    await this.#stopProcessing(request.savepoint === true ? (request.id ?? `stop-${randomUUID()}`) : undefined);
    if (this.taskSet.phase !== 'finished')
      throw new ControlError('SLUICE_E_NOT_STOPPED', `the job ended ${this.taskSet.phase}, not finished: its last commit is where it restarts`, 500);
    const savepoint = request.savepoint ? await this.#savepoint(request.id, { running: false }) : null;
    await this.close();
    return { stopped: true, savepoint };
  }

  /**
   * A stop that would fail at its savepoint is refused before processing stops, so the pod runs on as it was (a stopped
   * pod without a savepoint can only be restarted). What it checks is that the savepoint location answers a listing.
   */
  async #requireReachableSavepoints(): Promise<void> {
    const storage = this.#savepoints!;
    try {
      await storage.folders('');
    } catch (error) {
      throw new ControlError(
        'SLUICE_E_SAVEPOINT_STORAGE',
        `the savepoint location ${storage.location} cannot be reached (${messageOf(error)}); the job goes on running: make it reachable (endpoint, bucket, credentials) and stop again`,
        503,
      );
    }
  }

  /**
   * Stops the checkpoints and the task set, which commits what it processed, then waits for a checkpoint still
   * uploading (its pinned view reads the store, which closes next; S3's timeouts bound the wait).
   */
  async #stopProcessing(forSavepoint?: string): Promise<void> {
    this.#stopCheckpoints?.();
    // A repartitioned job's savepoint needs its repartition topic drained (every pod of the job stops for it).
    const drain = forSavepoint === undefined ? {} : { drain: { barrier: forSavepoint, timeoutMs: REPARTITION_DRAIN_AT_STOP_MS } };
    await (this.taskSet instanceof RepartitionedTaskSet ? this.taskSet.stop(drain) : this.taskSet.stop());
    await this.#checkpointing;
  }

  /** Commits what was processed and closes everything; status answers on. Closing again waits for the same close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#stopProcessing();
      for (const sink of this.#sinks) await sink.close();
      await this.client.close();
      this.#checkpoints?.close();
      if (this.#savepoints !== this.#checkpoints) this.#savepoints?.close();
      await this.store.close();
    })();
    return this.#closing;
  }
}

function describeStop({ savepoint, id }: StopRequest): string {
  return savepoint ? `a stop with savepoint ${id ?? '(a new id)'}` : 'a stop without a savepoint';
}
