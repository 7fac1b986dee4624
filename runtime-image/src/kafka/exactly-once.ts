// The exactly-once task set of one pod: restore from the changelogs, then per commit interval one transaction with outputs, changelog records and offsets.
import { RUNTIME_ENV } from '@sluice/crds';
import { SluiceError } from '@sluice/crds/errors';
import type { CompiledJob } from '../compiler/job.js';
import { boundedReason, type Sink } from '../connectors/sink.js';
import type { ArrivedMessage, SourceBatch } from '../connectors/source.js';
import { messageOf } from '../error-message.js';
import type { StreamRecord } from '../dataflow/operator.js';
import { Task, type TaskOptions } from '../dataflow/task.js';
import type { Dataflow } from '../dataflow/datastream.js';
import { CacheBudget } from '../state/cache-budget.js';
import { requireSnapshot, type FoundSnapshot } from '../snapshot/reader.js';
import type { S3Settings } from '../snapshot/s3-storage.js';
import type { SnapshotStorage } from '../snapshot/storage.js';
import type { TaskPosition } from '../snapshot/writer.js';
import type { StateChange } from '../state/cached-keyed-state.js';
import type { StateStore } from '../state/store.js';
import { jobStateTtl, operatorStates } from '../state/job-state.js';
import { TaskState } from '../state/task-state.js';
import { WATERMARK_END, WATERMARK_START } from '../time/watermark.js';
import { changelogMessages, changelogTopics, restoreChangelogs, statefulOperatorIds } from './changelog.js';
import { TableJoinTasks } from '../join/table-tasks.js';
import { KafkaTableReader } from './table-reader.js';
import type { CommittedOffset, Fetch, FetchedMessage, KafkaClient, OutgoingMessage, TopicRequest, TransactionalProducer } from './client.js';
import { deadLetterMessage, type DeadLetterContent } from './records.js';
import { fitsAlone, messageBytes } from './message-size.js';
import type { TransactionOutbox } from './sink.js';
import { KafkaSource } from './source.js';
import { OperatorCounts, type OperatorCount } from './operator-counts.js';
import { changelogPositions, restoreSnapshotBase, snapshotChangelog } from './snapshot-base.js';
import { ownedPartitions } from './static-assignment.js';
import { carriesMark, fromSavepoint, withEmptyState, type StartMark, type StartOver } from './savepoint-restore.js';
import { systemClock, type RuntimeClock } from '../time/clock.js';
import { ErasureTasks, subjectOf, type ErasureReport } from '../erasure/apply.js';
import { startErasureReader } from '../erasure/reader.js';

/** How many commit intervals the loop processes ahead of a transaction in flight before it waits for it. */
const RUN_AHEAD_INTERVALS = 10;

export interface CommitReport {
  durationMs: number;
  messages: number;
  changelogRecords: number;
  /** Event time of each result committed, for the event-to-output latency. */
  resultEventTimes: readonly number[];
}

/** What the task set reports as it goes; the process turns it into metrics. */
export interface ExactlyOnceEvents {
  recordsIn?(partition: number, count: number): void;
  resultsOut?(partition: number, count: number): void;
  late?(partition: number): void;
  deadLettered?(partition: number): void;
  /** A record broke `rules` of the source's data-quality rules (it is dead-lettered once, whatever their number). */
  rulesBroken?(source: string, rules: readonly string[]): void;
  committed?(report: CommitReport): void;
  /** Once per commit: each operator's records in and out since the last one. */
  operators?(partition: number, counts: readonly OperatorCount[]): void;
  /** On restore: the partition's latest snapshot could not be read, so its whole changelog is replayed instead. */
  snapshotUnreadable?(partition: number, error: Error): void;
  /** A repartitioned job deleted the repartition topic's records stage 2 has committed past (or could not: `error`). */
  repartitionPurged?(topic: string, result: { before: ReadonlyMap<number, number> } | { error: Error }): void;
  /** A GDPR erasure was applied (spec.erasure): the subject's hash, never its value. */
  erased?(report: ErasureReport): void;
}

export interface ExactlyOnceOptions {
  job: CompiledJob;
  /**
   * What names the job's consumer group, transactional ids and changelog topics in Kafka (Kafka Streams'
   * application.id); the job's name by default. The operator makes it namespace.name, so same-named jobs of two
   * namespaces on one Kafka cluster neither share offsets nor fence each other's transactions.
   */
  applicationId?: string;
  client: KafkaClient;
  /** The pod's state store; the owned partitions' state in it is replaced by what the changelogs hold. */
  store: StateStore;
  ordinal: number;
  parallelism: number;
  /** The job's sinks; Kafka sinks write to `outbox`, the others are committed (idempotently) before each transaction. */
  sinks: readonly Sink[];
  outbox: TransactionOutbox;
  /** A bounded run: the input ends at a `sluice.end-of-input` message in every partition. */
  endMarkers?: boolean;
  /** Keys the write-back caches of all tasks may hold together. */
  cacheEntries?: number;
  maxBytesPerPartition?: number;
  /** Where checkpoints and savepoints are kept: the restore starts from the latest one and replays only the changelog after it. */
  snapshots?: { storage: SnapshotStorage; specHash: string } | undefined;
  /**
   * A snapshot to start from instead of the last commit (SLUICE_RESTORE_FROM: a snapshot's own location, or a
   * folder whose newest snapshot of the job is taken). Applied once: the first transaction records its id in the
   * committed offsets' metadata, and a restart that finds it there resumes from its last commit as usual.
   */
  restoreFrom?: string | undefined;
  /**
   * Start with empty state from the committed offsets (SLUICE_DISCARD_STATE, a stateless upgrade): the marker is
   * recorded in the committed offsets' metadata, so a restart that finds it there resumes from its last commit.
   */
  discardState?: string | undefined;
  /** How to reach S3 when restoreFrom is an s3:// location. */
  s3?: S3Settings | undefined;
  events?: ExactlyOnceEvents;
  /** Set for one stage of a repartitioned job (repartition/kafka-stage.ts): `job` is then that stage's part of the job. */
  stage?: TaskSetStage;
  /** A repartitioned job: how often the repartition topic's records stage 2 committed past are deleted (30 s by default; 0: never). */
  repartitionPurgeIntervalMs?: number;
  /** Times the commit interval and stamps records of a job without event time; the system clock by default. */
  clock?: RuntimeClock;
}

/** What the task set drives for an owned partition: the job's Task, or a repartition stage's task. */
export interface PartitionTask {
  readonly watermark: number;
  processRecord(value: Record<string, unknown>, timestamp: number): void;
  endOfInput(): void;
  /** Continues from the last commit: its watermark, and the offset metadata it was committed with. */
  restore(watermark: number, metadata?: Record<string, unknown>): void;
  /** Fields kept in the committed offset's metadata beside the watermark (read back by `restore`). */
  metadata?(): Record<string, unknown>;
  /** Set where the dataflow has operators that emit asynchronously (a score step); see Task.room and Task.settle. */
  room?(): Promise<void> | undefined;
  /** A GDPR erasure: deletes what the task's operators hold for the subject (Task.eraseKey). */
  eraseKey?(subject: string | number | boolean): number;
  settle?(): Promise<() => void>;
}

/** One stage of a repartitioned job: its consumer group and transactional ids, and the task it runs per partition. */
export interface TaskSetStage {
  /** Appended to the group and transactional ids, so the two stages' offsets and transactions are their own. */
  idSuffix: string;
  task(partition: number, dataflow: Dataflow, options: TaskOptions): PartitionTask;
  /** Where a partition started over from a snapshot reads from, when not the snapshot's source offset (stage 2: its own topic's). */
  startOverOffset?(partition: number): number;
}

export type Phase = 'starting' | 'restoring' | 'running' | 'stopping' | 'finished' | 'failed';

/** The offset's metadata: the watermark (JSON has no infinities: a string at its ends) and the mark of how this deployment started. */
function encodeOffsetMetadata(watermark: number, mark: StartMark | undefined, task?: Record<string, unknown>): string {
  return JSON.stringify({ ...task, watermark: Number.isFinite(watermark) ? watermark : String(watermark), ...mark });
}

function decodeMetadata(metadata: string | null): { watermark: number; fields: Record<string, unknown> } {
  if (metadata === null || metadata === '') return { watermark: WATERMARK_START, fields: {} };
  const fields = JSON.parse(metadata) as { watermark: number | string };
  return { watermark: typeof fields.watermark === 'number' ? fields.watermark : Number(fields.watermark), fields };
}

/**
 * A record the task set could not process (not a bad record, which is dead-lettered: an error of the engine or
 * of the job's code). The task set fails with it, so nothing after its last commit is committed, and the pod
 * exits: the restart resumes from that commit.
 */
export class RecordProcessingError extends SluiceError {
  override readonly code = 'SLUICE_E_RECORD_PROCESSING';

  constructor(
    job: string,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    cause: unknown,
  ) {
    super(
      boundedReason(
        `job ${job} failed processing ${topic} partition ${partition} offset ${offset}: ${messageOf(cause)}. ` +
          'The pod exits and restarts from its last commit; if the same offset fails again, report this message with the record at that offset',
      ),
      { cause },
    );
  }
}

/**
 * A changelog record over the changelog topic's limit: state cannot be dead-lettered (the restore would lose it),
 * so the task set fails with this and says what to raise.
 */
export class StateTooLargeError extends SluiceError {
  override readonly code = 'SLUICE_E_STATE_TOO_LARGE';

  constructor(
    readonly operator: string,
    topic: string,
    key: string,
    bytes: number,
    limit: number,
  ) {
    super(
      boundedReason(
        `operator ${operator}: the state of key ${JSON.stringify(key.length <= 64 ? key : `${key.slice(0, 64)}…`)} takes ${bytes} bytes, over the ${limit} bytes (max.message.bytes) of its changelog ${topic}; ` +
          `state cannot be dead-lettered, so the job stops here: raise max.message.bytes of ${topic} (and message.max.bytes of the brokers), or keep less state per key (a shorter window, fewer distinct values)`,
      ),
    );
  }
}

interface TaskSlot {
  partition: number;
  task: PartitionTask;
  state: TaskState;
  /** The next source offset to read. */
  position: number;
  /** The offset of the record being processed, for dead letters. */
  current: number;
  /** The record being processed as it arrived: its dead letter (a bad event time, a failed filter) is that message. */
  arrived: ArrivedMessage | undefined;
  counts: OperatorCounts;
}

/**
 * Kafka Streams' EOS, per pod: the transactional id `sluice-<job>-<ordinal>` is stable, so a
 * restarted pod fences its predecessor; on start, every owned partition's state is rebuilt from its
 * changelog (read_committed: only what committed transactions wrote), its watermark is read from
 * the committed offset's metadata, and reading resumes at that offset. Output, changelog and offset
 * of a commit interval become visible together or not at all, so a crash at any point replays
 * exactly the uncommitted records into exactly the committed state.
 */
export class ExactlyOnceTaskSet {
  readonly applicationId: string;
  readonly groupId: string;
  readonly transactionalId: string;
  phase: Phase = 'starting';
  /** The owned partitions, once known. */
  partitions: number[] = [];
  /** Changelog records replayed by the restore. */
  restoredRecords = 0;
  /** Partitions whose restore started from a snapshot. */
  restoredFromSnapshot: number[] = [];
  /** The id of the snapshot this start rolled the partitions back to (SLUICE_RESTORE_FROM), if it did. */
  restoredFromSavepoint: string | undefined;
  /** The marker of the stateless upgrade this start discarded the partitions' state for (SLUICE_DISCARD_STATE), if it did. */
  discardedState: string | undefined;
  /** The start SLUICE_RESTORE_FROM or SLUICE_DISCARD_STATE asks for, recorded with every commit's offsets so a restart does not start over again. */
  #startMark: StartMark | undefined;
  /** Per partition, the changelog records of a start over, for the first transaction. */
  readonly #startOverChanges = new Map<number, StateChange[]>();
  /** The changelog whose positions snapshots record (one stateful operator), if any. */
  #snapshotChangelog: string | undefined;
  readonly done: Promise<void>;
  readonly #options: ExactlyOnceOptions;
  readonly #clock: RuntimeClock;
  readonly #tasks = new Map<number, TaskSlot>();
  readonly #dirty = new Set<number>();
  readonly #source: KafkaSource;
  /** The join operators of the tasks, which the table readers feed. */
  readonly #tables = new TableJoinTasks();
  readonly #tableReaders: KafkaTableReader[] = [];
  /** spec.erasure: each task's erasure positions, and the reading of the erasure topic (erasure/). */
  #erasure: ErasureTasks | undefined;
  #erasureFetch: Fetch | undefined;
  #resultTimes: number[] = [];
  #producer: TransactionalProducer | undefined;
  /** Per topic written, its limit per record batch (max.message.bytes), read at the start. */
  #maxMessageBytes = new Map<string, number>();
  #commits: Promise<void> = Promise.resolve();
  /** Commits started and not yet settled. */
  #inFlight = 0;
  #lastCommit = 0;
  #stopTimer: () => void = () => undefined;
  #stopping = false;
  /** Set while a commit point's action runs: processing waits for it (see atCommitPoint). */
  #paused: Promise<void> | undefined;
  /** Commit points run one after the other. */
  #commitPoints: Promise<void> = Promise.resolve();
  #finish!: () => void;
  #fail!: (error: Error) => void;

  constructor(options: ExactlyOnceOptions) {
    this.#clock = options.clock ?? systemClock;
    if (options.job.source.kind !== 'kafka')
      throw new Error(`job ${options.job.name} reads a ${options.job.source.kind} source; the exactly-once task set reads Kafka`);
    if (options.stage === undefined && options.job.repartition !== undefined) {
      throw new Error(
        `job ${options.job.name} repartitions (${options.job.repartition.path}): it runs in two stages, a RepartitionedTaskSet (repartition/kafka-stage.ts), not one task set`,
      );
    }
    this.#options = options;
    this.applicationId = options.applicationId ?? options.job.name;
    const suffix = options.stage?.idSuffix ?? '';
    this.groupId = `sluice-${this.applicationId}${suffix}`;
    this.transactionalId = `sluice-${this.applicationId}${suffix}-${options.ordinal}`;
    this.#source = new KafkaSource({
      client: options.client,
      topic: options.job.source.topic,
      format: options.job.source.format,
      endMarkers: options.endMarkers,
      maxBytesPerPartition: options.maxBytesPerPartition,
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.#finish = resolve;
      this.#fail = reject;
    });
    // A failure is reported through `done`; this keeps an early one from counting as unhandled before someone awaits it.
    this.done.catch(() => undefined);
  }

  get sourceTopic(): string {
    return this.#source.topic;
  }

  /** The source's consumer lag per owned partition, as of the last batch. */
  get lag(): ReadonlyMap<number, number> {
    return this.#source.lag;
  }

  /** At a commit point: each owned partition's changelog position, for a snapshot taken there. */
  changelogPositions(): Promise<Map<number, number | null>> {
    return changelogPositions(this.#options.client, this.#snapshotChangelog, this.partitions);
  }

  /** Each owned partition's watermark and next offset. */
  positions(): { partition: number; offset: number; watermark: number }[] {
    return [...this.#tasks.values()].map(({ partition, position, task }) => ({ partition, offset: position, watermark: task.watermark }));
  }

  /** Restores the owned partitions and starts reading; resolves once the task set is consuming (ready). */
  async start(): Promise<void> {
    const { job, client, store, ordinal, parallelism } = this.#options;
    const topic = this.#source.topic;
    const count = (await this.#source.partitions()).length;
    this.partitions = ownedPartitions(count, ordinal, parallelism);
    const statefulIds = statefulOperatorIds(job.dataflow);
    const written = [...changelogTopics(this.applicationId, statefulIds, count), ...this.#outputTopics(count)];
    await client.ensureTopics(written);
    this.#maxMessageBytes = new Map(await Promise.all(written.map(async ({ topic }) => [topic, await client.maxMessageBytes(topic)] as const)));
    this.#options.outbox.limitTo(this.#maxMessageBytes);
    this.#producer = await client.transactionalProducer(this.transactionalId);
    this.phase = 'restoring';
    const committed = await client.committedOffsets(this.groupId, topic);
    // The local store may hold flushed changes of transactions that never committed: snapshot and changelog are the truth.
    for (const partition of this.partitions) store.dropPartition(partition);
    this.#snapshotChangelog = snapshotChangelog(this.applicationId, statefulIds);
    const snapshots = this.#options.snapshots;
    const from =
      snapshots === undefined
        ? new Map<number, number>()
        : await restoreSnapshotBase({
            ...snapshots,
            job: job.name,
            store,
            partitions: this.partitions,
            changelog: this.#snapshotChangelog,
            onUnreadable: (partition, error) => this.#options.events?.snapshotUnreadable?.(partition, error),
          });
    this.restoredFromSnapshot = [...from.keys()];
    this.restoredRecords = await restoreChangelogs({
      client,
      store,
      job: this.applicationId,
      operatorIds: statefulIds,
      partitions: this.partitions,
      from: (_id, p) => from.get(p) ?? 0,
    });
    const startedOver = await this.#startOver(committed, statefulIds);
    const cache = new CacheBudget(this.#options.cacheEntries ?? 100_000);
    const latest = job.source.kind === 'kafka' && job.source.startingOffsets === 'latest' ? await client.endOffsets(topic) : undefined;
    // Erasures run on the job's keyed state; a repartitioned job's stages hold it elsewhere, so they do not read them.
    if (job.erasure !== undefined && this.#options.stage === undefined) {
      // Routed to the subject's partition only when the state is partitioned by it: a broadcast table is in every task.
      const routed = job.source.kind === 'kafka' && job.source.keyedBy === job.erasure.resultField && job.tables.length === 0;
      this.#erasure = new ErasureTasks({ erasure: job.erasure, sinks: this.#options.sinks, ...(routed ? { routeBy: count } : {}) });
    }
    for (const partition of this.partitions) {
      const state = new TaskState({ store, partition, cache, ttl: jobStateTtl(job) });
      const slot: TaskSlot = {
        partition,
        state,
        position: 0,
        current: -1,
        arrived: undefined,
        counts: new OperatorCounts(),
        task: undefined as unknown as Task,
      };
      const dataflow = slot.counts.wrap(this.#tables.wrap(job.dataflow, partition));
      const taskOptions = { state: operatorStates(job.dataflow, state), outputs: this.#outputs(slot) };
      slot.task = this.#options.stage?.task(partition, dataflow, taskOptions) ?? new Task(dataflow, taskOptions);
      const offset = committed.get(partition);
      const savepoint = startedOver.get(partition);
      // The first transaction commits the start's mark, and a snapshot's offsets over the newer ones in Kafka.
      if (startedOver.has(partition)) this.#dirty.add(partition);
      if (savepoint !== undefined) {
        slot.position = this.#options.stage?.startOverOffset?.(partition) ?? savepoint.sourceOffset;
        slot.task.restore(savepoint.watermark);
      } else if (offset !== undefined) {
        slot.position = offset.offset;
        const { watermark, fields } = decodeMetadata(offset.metadata);
        slot.task.restore(watermark, fields);
        // A start over (a savepoint, discarded state) has no erasure positions: every erasure is applied again.
        this.#erasure?.restore(partition, fields);
      } else {
        slot.position = latest?.get(partition) ?? 0;
      }
      this.#tasks.set(partition, slot);
    }
    // Sinks that commit with the transaction keep what the last committed one recorded, and drop the rest (Sink.recover).
    const committedMetadata = new Map(this.partitions.map((p) => [p, decodeMetadata(committed.get(p)?.metadata ?? null).fields]));
    for (const sink of this.#options.sinks) await sink.recover?.(committedMetadata);
    await this.#startTables(count);
    await this.#startErasures();
    this.phase = 'running';
    this.#lastCommit = this.#clock.now();
    this.#stopTimer = this.#clock.every(job.commitInterval, () => {
      if (this.#inFlight === 0 && (this.#dirty.size > 0 || this.#options.outbox.size > 0)) this.commit().catch((error: Error) => this.#failWith(error));
    });
    this.#run().then(
      () => this.#finish(),
      (error: Error) => this.#failWith(error),
    );
  }

  /**
   * Starts the owned partitions over as SLUICE_RESTORE_FROM (from a snapshot) or SLUICE_DISCARD_STATE (with
   * empty state) asks, each unless its committed offset records that this was done already. Returns the
   * partitions started over, with the position a snapshot gave them (undefined: their committed one).
   */
  async #startOver(committed: ReadonlyMap<number, CommittedOffset>, operatorIds: readonly string[]): Promise<Map<number, TaskPosition | undefined>> {
    const started = new Map<number, TaskPosition | undefined>();
    const { store, discardState } = this.#options;
    const savepoint = await this.#savepointToRestore();
    try {
      const startOver: StartOver | undefined =
        savepoint !== undefined ? fromSavepoint(savepoint) : discardState !== undefined ? withEmptyState(discardState) : undefined;
      if (startOver === undefined) return started;
      this.#startMark = startOver.mark;
      for (const partition of this.partitions) {
        if (carriesMark(committed.get(partition)?.metadata, startOver.mark)) continue;
        const { position, changes } = await startOver.apply(store, partition, operatorIds);
        started.set(partition, position);
        this.#startOverChanges.set(partition, changes);
      }
    } finally {
      savepoint?.storage.close();
    }
    if (started.size > 0) {
      if (savepoint !== undefined) this.restoredFromSavepoint = savepoint.manifest.id;
      else this.discardedState = discardState;
    }
    return started;
  }

  /** The snapshot SLUICE_RESTORE_FROM names, if it names one; it must be of this job. */
  async #savepointToRestore(): Promise<FoundSnapshot | undefined> {
    const { job, restoreFrom, s3 } = this.#options;
    if (restoreFrom === undefined) return undefined;
    const savepoint = await requireSnapshot(restoreFrom, { job: job.name }, s3 === undefined ? {} : { s3 });
    if (savepoint.manifest.job !== job.name) {
      savepoint.storage.close();
      throw new Error(
        `${RUNTIME_ENV.restoreFrom}=${restoreFrom} is snapshot ${savepoint.manifest.id} of job ${savepoint.manifest.job}, not of ${job.name}: give a snapshot this job took`,
      );
    }
    return savepoint;
  }

  /** Commits what has been processed in one transaction; transactions run one after the other. */
  commit(): Promise<void> {
    this.#inFlight += 1;
    const next = this.#commits.then(() => this.#commitNow()).finally(() => (this.#inFlight -= 1));
    this.#commits = next.catch(() => undefined);
    return next;
  }

  /** Stops reading, commits what was processed, and closes; `done` resolves afterwards. */
  async stop(): Promise<void> {
    if (this.phase === 'finished' || this.phase === 'failed') return;
    this.#stopping = true;
    this.phase = 'stopping';
    await this.#source.close();
    await this.done.catch(() => undefined);
  }

  /**
   * Runs `action` between two transactions, with every processed record committed: the point a snapshot is taken at.
   * Processing waits from the commit until the action is done, so the action sees the state, offsets and watermarks
   * of exactly that commit (the loop otherwise goes on processing while a transaction is in flight, and a snapshot
   * would pair offsets read after the commit with state flushed at it). Keep the action short.
   */
  atCommitPoint<T>(action: () => Promise<T>): Promise<T> {
    const result = this.#commitPoints.then(async () => {
      let resume!: () => void;
      this.#paused = new Promise<void>((resolve) => (resume = resolve));
      try {
        await this.commit();
        const acted = this.#commits.then(action);
        this.#commits = acted.then(
          () => undefined,
          () => undefined,
        );
        return await acted;
      } finally {
        this.#paused = undefined;
        resume();
      }
    });
    this.#commitPoints = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #run(): Promise<void> {
    const ended = [...this.#tasks.values()].filter((slot) => slot.task.watermark === WATERMARK_END).map((slot) => slot.partition);
    const active = this.partitions.filter((p) => !ended.includes(p));
    // An unbounded pod that owns no partition (more pods than partitions) idles until stopped rather than exiting.
    if (active.length > 0 || this.#options.endMarkers !== true) {
      const from = Object.fromEntries(active.map((p) => [p, this.#tasks.get(p)!.position]));
      for await (const batch of this.#source.read({ partitions: active, from })) {
        if (this.#paused !== undefined) await this.#paused;
        // A score step holds records while its calls run: with its queue full, or while a commit settles it, the batch
        // waits (backpressure). Checked again after each wait, in the same synchronous run as #process, so no batch
        // slips in once a commit has started settling.
        const task = this.#tasks.get(batch.partition)!.task;
        for (let room = task.room?.(); room !== undefined; room = task.room?.()) await room;
        this.#process(batch);
        // A repartition stage's partitions end when every upstream partition has (its watermark is +∞), not at a marker.
        if (this.#options.endMarkers === true && active.every((p) => this.#tasks.get(p)!.task.watermark === WATERMARK_END)) break;
        if (this.#clock.now() - this.#lastCommit >= this.#options.job.commitInterval) await this.#commitBehind();
      }
    }
    if (this.phase === 'failed') return;
    if (this.#options.endMarkers === true && !this.#stopping) {
      await this.#endOtherStreams();
      for (const partition of active) {
        this.#tasks.get(partition)!.task.endOfInput();
        this.#dirty.add(partition);
      }
    }
    await this.#stopTables();
    this.#stopTimer();
    await this.commit();
    await this.#producer?.close();
    this.phase = 'finished';
  }

  /**
   * Reads each table the job joins, from the positions the tasks' restored state holds, to the end it has now, before
   * the stream's first record; then keeps reading its changes beside the stream. A table's rows and positions are the
   * join's keyed state, so they are committed with the stream's offsets, in the same transaction.
   */
  async #startTables(streamPartitions: number): Promise<void> {
    const { client, job } = this.#options;
    for (const table of job.tables) {
      const reader = new KafkaTableReader({
        client,
        table,
        streamPartitions,
        tasks: this.#tables,
        beforeBatch: () => this.#paused,
        applied: (tasks, rejected) => {
          for (const task of tasks) this.#dirty.add(task);
          for (const { reason, message } of rejected) this.#tableDeadLetter(reason, message);
        },
        onError: (error) => this.#failWith(error),
      });
      this.#tableReaders.push(reader);
      await reader.start();
    }
  }

  /** Reads spec.erasure's topic beside the stream: each erasure's deletes reach the changelog and sinks with the next commit. */
  async #startErasures(): Promise<void> {
    const erasure = this.#erasure;
    const { job, client, events } = this.#options;
    if (erasure === undefined || job.erasure === undefined) return;
    this.#erasureFetch = await startErasureReader({
      client,
      erasure: job.erasure,
      tasks: erasure,
      beforeBatch: () => this.#paused,
      apply: (message) => {
        let subject: string | number | boolean;
        try {
          subject = subjectOf(job.erasure!, message);
        } catch (error) {
          // Dead-lettered with its own coordinates (once: the tasks' positions move past it), and passed over.
          const moved = erasure.pass(message, this.#tasks.keys());
          if (moved.length > 0) this.#tableDeadLetter(messageOf(error), message);
          for (const partition of moved) this.#dirty.add(partition);
          return;
        }
        const tasks = new Map([...this.#tasks].map(([partition, slot]) => [partition, slot.task]));
        const { moved, report } = erasure.apply(message, subject, tasks);
        for (const partition of moved) this.#dirty.add(partition);
        if (report !== undefined) events?.erased?.(report);
      },
      onError: (error) => this.#failWith(error),
    });
  }

  /** A bounded run: each interval join's other stream is read to its end (its end markers), then ends (watermark +∞). */
  async #endOtherStreams(): Promise<void> {
    for (const reader of this.#tableReaders) {
      if (reader.table.interval !== true) continue;
      await reader.readToEnd();
      this.#tables.ended(reader.table.source.name);
      // Its watermark, now +∞, is in every task's state: committed with them.
      for (const partition of this.partitions) this.#dirty.add(partition);
    }
  }

  async #stopTables(): Promise<void> {
    const erasures = this.#erasureFetch;
    this.#erasureFetch = undefined;
    await Promise.all([...this.#tableReaders.splice(0).map((reader) => reader.stop()), erasures?.stop()]);
  }

  /** A table message that is no row (not a JSON object, no key): dead-lettered with its own coordinates, and passed over. */
  #tableDeadLetter(reason: string, message: FetchedMessage): void {
    const topic = this.#options.job.deadLetter?.topic;
    if (topic === undefined) return;
    const origin = { topic: message.topic, partition: message.partition, offset: message.offset, timestamp: message.timestamp };
    this.#options.outbox.add(
      deadLetterMessage(topic, reason, { key: message.key, value: message.value, headers: message.rawHeaders }, origin, this.#maxMessageBytes.get(topic)),
    );
  }

  /**
   * Starts the interval's commit and goes on processing while it runs: the commit took what it
   * carries synchronously when it started. While the previous transaction is still in flight the
   * loop keeps processing into the next one, which then starts with the first batch after it
   * settles and carries everything processed meanwhile (fewer, larger transactions whose changelog
   * keeps only the last value per key). Only when a transaction has been in flight for
   * RUN_AHEAD_INTERVALS intervals does the loop wait, which bounds what the next one carries.
   */
  async #commitBehind(): Promise<void> {
    if (this.#inFlight > 0) {
      if (this.#clock.now() - this.#lastCommit < RUN_AHEAD_INTERVALS * this.#options.job.commitInterval) return;
      await this.#commits;
    }
    this.commit().catch((error: Error) => this.#failWith(error));
  }

  #process(batch: SourceBatch): void {
    const slot = this.#tasks.get(batch.partition)!;
    const { job, events } = this.#options;
    const topic = this.#source.topic;
    try {
      for (const rejected of batch.rejected) {
        slot.current = rejected.offset;
        slot.arrived = rejected.arrived;
        this.#deadLetter(slot, rejected.reason, { key: rejected.arrived?.key ?? null, value: rejected.raw, headers: rejected.arrived?.rawHeaders });
      }
      const eventTime = job.eventTime;
      for (const record of batch.records) {
        slot.current = record.offset;
        slot.arrived = record.arrived;
        const broken = job.rules?.check(record.value);
        if (broken !== undefined) {
          events?.rulesBroken?.(job.rules!.source, broken.rules);
          this.#deadLetter(slot, broken.reason, this.#asArrived(slot, { value: record.value, timestamp: Number.NaN }));
          continue;
        }
        let timestamp: number;
        try {
          timestamp = eventTime === undefined ? this.#clock.now() : eventTime.extract(record.value);
        } catch (error) {
          this.#deadLetter(slot, messageOf(error), this.#asArrived(slot, { value: record.value, timestamp: Number.NaN }));
          continue;
        }
        slot.task.processRecord(record.value, timestamp);
      }
    } catch (error) {
      throw new RecordProcessingError(job.name, topic, batch.partition, slot.current, error);
    } finally {
      slot.arrived = undefined;
    }
    events?.recordsIn?.(batch.partition, batch.records.length + batch.rejected.length);
    slot.position = batch.next;
    this.#dirty.add(batch.partition);
  }

  #outputs(slot: TaskSlot): ConstructorParameters<typeof Task>[1]['outputs'] {
    const { job, sinks, outbox, events } = this.#options;
    return {
      result: (record) => {
        events?.resultsOut?.(slot.partition, 1);
        this.#resultTimes.push(record.timestamp);
        for (const sink of sinks) {
          const failed = sink.write(record, slot.partition);
          // A result is not an input: its dead letter is the result as JSON, with the coordinates of the input that fired it.
          if (failed !== undefined) this.#deadLetter(slot, failed.reason, asJson(failed.record));
        }
      },
      late: (record) => {
        events?.late?.(slot.partition);
        const topic = job.lateOutput?.topic;
        if (topic === undefined) return;
        const refused = outbox.add({ topic, key: record.key ?? null, value: JSON.stringify(record.value) });
        if (refused !== undefined) this.#deadLetter(slot, `late output ${topic}: ${refused}`, this.#asArrived(slot, record));
      },
      // Operators dead-letter the record being processed (a filter or key that failed on it): its dead letter is that input.
      deadLetter: ({ reason, record }) => this.#deadLetter(slot, reason, this.#asArrived(slot, record)),
    };
  }

  /** The input being processed as it arrived, where there is one; else the record as JSON. */
  #asArrived(slot: TaskSlot, record: StreamRecord): DeadLetterContent {
    const arrived = slot.arrived;
    return arrived === undefined ? asJson(record) : { key: arrived.key, value: arrived.value, headers: arrived.rawHeaders };
  }

  #deadLetter(slot: TaskSlot, reason: string, content: DeadLetterContent): void {
    this.#options.events?.deadLettered?.(slot.partition);
    const topic = this.#options.job.deadLetter?.topic;
    if (topic === undefined) return;
    const origin = {
      topic: this.#source.topic,
      partition: slot.partition,
      offset: slot.current,
      ...(slot.arrived === undefined ? {} : { timestamp: slot.arrived.timestamp }),
    };
    this.#options.outbox.add(deadLetterMessage(topic, reason, content, origin, this.#maxMessageBytes.get(topic)));
  }

  async #commitNow(): Promise<void> {
    // After a failed transaction its outputs and changelog records are gone while the store kept the
    // changes: committing anything later would skip them. Only a restart, from the last commit, is safe.
    if (this.phase === 'failed')
      throw new Error(`job ${this.#options.job.name}: a transaction failed, so nothing more is committed; the pod restarts from its last commit`);
    const started = Date.now();
    // Score steps emit records when their calls finish: wait until every record read so far has left them (reading held
    // back meanwhile), so the offsets taken below cover finished records only. Reading may resume at once: from here to
    // the sinks' commit this runs synchronously, so no batch is processed before the offsets are taken.
    const settling = [...this.#tasks.values()].flatMap(({ task }) => (task.settle === undefined ? [] : [task.settle()]));
    for (const letIn of await Promise.all(settling)) letIn();
    this.#lastCommit = this.#clock.now();
    const producer = this.#producer;
    if (producer === undefined) return;
    const messages: OutgoingMessage[] = this.#options.outbox.take();
    const outputs = messages.length;
    // A start over's records come first: what the tasks flush now was built on the state it started with.
    for (const [partition, changes] of this.#startOverChanges) messages.push(...changelogMessages(this.applicationId, partition, changes));
    this.#startOverChanges.clear();
    for (const slot of this.#tasks.values()) {
      const changes = slot.state.flush();
      if (changes.length > 0) messages.push(...changelogMessages(this.applicationId, slot.partition, changes));
    }
    this.#requireFit(messages, outputs);
    // Sinks that commit with the transaction (Sink.stage) take their results now, with the offsets that cover them.
    for (const sink of this.#options.sinks) for (const partition of sink.stage?.() ?? []) this.#dirty.add(partition);
    const offsets = [...this.#dirty].map((partition) => {
      const slot = this.#tasks.get(partition)!;
      return {
        topic: this.#source.topic,
        partition,
        offset: slot.position,
        metadata: encodeOffsetMetadata(slot.task.watermark, this.#startMark, {
          ...slot.task.metadata?.(),
          ...this.#sinkMetadata(partition),
          ...this.#erasure?.metadata(partition),
        }),
      };
    });
    this.#dirty.clear();
    const resultEventTimes = this.#resultTimes;
    this.#resultTimes = [];
    const { events } = this.#options;
    if (events?.operators !== undefined) for (const slot of this.#tasks.values()) events.operators(slot.partition, slot.counts.take());
    if (messages.length === 0 && offsets.length === 0) return;
    // Sinks outside Kafka are written first and idempotently: a crash before the transaction commits replays the same values into them.
    for (const sink of this.#options.sinks) await sink.commit();
    await producer.commit({ messages, groupId: this.groupId, offsets });
    for (const sink of this.#options.sinks) await sink.committed?.();
    this.#options.events?.committed?.({ durationMs: Date.now() - started, messages: outputs, changelogRecords: messages.length - outputs, resultEventTimes });
  }

  /** What the sinks keep in the partition's committed offset metadata (Sink.offsetMetadata). */
  #sinkMetadata(partition: number): Record<string, unknown> {
    return Object.assign({}, ...this.#options.sinks.map((sink) => sink.offsetMetadata?.(partition))) as Record<string, unknown>;
  }

  /** Fails when a changelog record (from `first` on) is over its topic's limit: outputs were fitted as they were added. */
  #requireFit(messages: readonly OutgoingMessage[], first: number): void {
    for (let i = first; i < messages.length; i++) {
      const message = messages[i]!;
      const limit = this.#maxMessageBytes.get(message.topic);
      if (limit !== undefined && !fitsAlone(message, limit)) {
        const operator = message.topic.slice(this.applicationId.length + 1, -'-changelog'.length);
        throw new StateTooLargeError(operator, message.topic, String(message.key), messageBytes(message), limit);
      }
    }
  }

  #outputTopics(partitions: number): TopicRequest[] {
    const { job } = this.#options;
    // Side outputs are the job's own; sink topics are the user's (Topic resources), but a local run creates them when missing.
    const topics = [job.lateOutput?.topic, job.deadLetter?.topic, ...job.sinks.map((sink) => (sink.kind === 'kafka' ? sink.topic : undefined))];
    return [...new Set(topics.filter((t): t is string => t !== undefined))].map((topic) => ({ topic, partitions }));
  }

  #failWith(error: Error): void {
    if (this.phase === 'failed') return;
    this.phase = 'failed';
    this.#stopTimer();
    void this.#source.close();
    void this.#stopTables().catch(() => undefined);
    // A transaction in flight settles (it carries only what was processed before the failure); then the producer is let go.
    void this.#commits.then(() => this.#producer?.close()).catch(() => undefined);
    this.#fail(error);
  }
}

/** A result or record as a dead letter's value: its JSON, or why it has none. */
function asJson(record: StreamRecord): DeadLetterContent {
  try {
    return { key: record.key ?? null, value: JSON.stringify(record.value) };
  } catch (error) {
    return { key: record.key ?? null, value: `the record could not be written as JSON: ${messageOf(error)}` };
  }
}
