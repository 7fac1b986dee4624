// The repartition stage on Kafka: stage 1 writes each record to the job's repartition topic by its key's hash, with watermark marks, and stage 2 reads it, each stage exactly once.
import type { CompiledJob } from '../compiler/job.js';
import type { Dataflow } from '../dataflow/datastream.js';
import type { TaskOptions } from '../dataflow/task.js';
import { Task } from '../dataflow/task.js';
import { ExactlyOnceTaskSet, type ExactlyOnceOptions, type Phase, type PartitionTask } from '../kafka/exactly-once.js';
import { TransactionOutbox } from '../kafka/sink.js';
import { type Clock, WATERMARK_END, WATERMARK_START, WatermarkCombiner } from '../time/watermark.js';
import { systemClock } from '../time/clock.js';
import { repartitionedSnapshotTag, repartitionRefusal, repartitionTopic } from './kafka.js';
import { StageTask } from './stage-task.js';
import type { RepartitionPlan } from './plan.js';
import { requireSnapshot } from '../snapshot/reader.js';
import type { S3Settings } from '../snapshot/s3-storage.js';
import type { StateNamespace, StateStore, StoreBatch, StoreCheckpoint, StoreView } from '../state/store.js';

type Row = Record<string, unknown>;

/** Appended to stage 2's consumer group and transactional ids; stage 1 keeps the job's own (its offsets are the source's). */
const STAGE_2_SUFFIX = '-repartition';

/** How often the records stage 2 has committed past are deleted from the repartition topic (Kafka Streams' repartition.purge.interval.ms). */
export const REPARTITION_PURGE_INTERVAL_MS = 30_000;

/** JSON has no infinities: a watermark at either end is written as its text. */
const encodeWatermark = (watermark: number): number | string => (Number.isFinite(watermark) ? watermark : String(watermark));
const decodeWatermark = (watermark: unknown): number => (typeof watermark === 'number' ? watermark : Number(watermark));

/**
 * A message of the repartition topic: a record of upstream partition `from` with its event time, a watermark mark
 * (upstream partition `from` has reached `watermark`, so nothing older follows from it), or a stop mark (upstream
 * partition `from` paused or stopped for the savepoint `barrier`: everything it wrote before its savepoint offsets
 * precedes the mark). Every pod's stage 1 marks a savepoint with the id the controller gives them all, so a stage 2
 * task knows the marks of this savepoint from those of an earlier one (marks written before barriers had none).
 */
type Envelope = { from: number; time: number; value: Row } | { from: number; watermark: number | string } | { from: number; stopped: true; barrier?: string };

/**
 * Stage 1's outbox: before each transaction takes its messages, every stage 1 task whose watermark moved since its
 * last mark adds one to every repartition partition, after the records it wrote (Flink broadcasts watermarks over a
 * keyBy the same way). One mark per partition per commit, however many records moved the watermark.
 */
class MarkingOutbox extends TransactionOutbox {
  readonly #tasks = new Map<number, Task>();
  readonly #marked = new Map<number, number>();
  /** Set when stage 1 stops or pauses for a savepoint (its id): every transaction from then on ends with each task's stop mark. */
  barrier: string | undefined;

  constructor(
    private readonly topic: string,
    private readonly partitions: () => number,
  ) {
    super();
  }

  register(partition: number, task: Task): void {
    this.#tasks.set(partition, task);
  }

  override take(): ReturnType<TransactionOutbox['take']> {
    for (const [from, task] of this.#tasks) {
      const watermark = task.watermark;
      if (watermark <= (this.#marked.get(from) ?? WATERMARK_START)) continue;
      this.#marked.set(from, watermark);
      const value = JSON.stringify({ from, watermark: encodeWatermark(watermark) } satisfies Envelope);
      this.#toEveryPartition(value);
    }
    const barrier = this.barrier;
    if (barrier !== undefined)
      for (const from of this.#tasks.keys()) this.#toEveryPartition(JSON.stringify({ from, stopped: true, barrier } satisfies Envelope));
    return super.take();
  }

  #toEveryPartition(value: string): void {
    for (let partition = 0; partition < this.partitions(); partition++) this.add({ topic: this.topic, partition, key: null, value });
  }
}

/**
 * Stage 2's task for one repartition partition: its records come from every upstream partition, and its watermark is
 * the minimum of their last marks (an upstream without records or marks for idleTimeout excepted). The marks are
 * kept in the committed offset's metadata, so a restart continues from each upstream's, not from their minimum.
 */
export class RepartitionedTask implements PartitionTask {
  readonly #stage: StageTask;
  readonly #combiner: WatermarkCombiner;
  readonly #marks = new Map<number, number>();
  readonly #upstream: readonly number[];
  /** Upstream partitions whose last message was a stop mark, with the savepoint it marks. */
  readonly #stopped = new Map<number, string | undefined>();

  constructor(dataflow: Dataflow, options: TaskOptions, upstream: readonly number[], idleTimeout: number | undefined, clock: Clock) {
    this.#stage = new StageTask(dataflow, options);
    this.#upstream = upstream;
    this.#combiner = new WatermarkCombiner(upstream, { idleTimeout, clock });
  }

  /**
   * Every upstream partition's last message marks savepoint `barrier`, or it ended (its +∞ mark: it writes nothing
   * more): this task has everything they wrote before the savepoint.
   */
  drainedFor(barrier: string): boolean {
    return this.waitingFor(barrier).length === 0;
  }

  /** The upstream partitions whose mark of savepoint `barrier` this task has not read yet. */
  waitingFor(barrier: string): number[] {
    return this.#upstream.filter((from) => this.#stopped.get(from) !== barrier && this.#marks.get(from) !== WATERMARK_END);
  }

  get watermark(): number {
    return this.#stage.watermark;
  }

  processRecord(value: Row): void {
    const envelope = value as Envelope;
    if (typeof envelope.from !== 'number')
      throw new Error('a message of the repartition topic has no upstream partition ("from"): only the job\'s stage 1 writes this topic');
    if ('stopped' in envelope) {
      this.#stopped.set(envelope.from, envelope.barrier);
      return;
    }
    this.#stopped.delete(envelope.from);
    if ('watermark' in envelope) {
      const watermark = decodeWatermark(envelope.watermark);
      this.#marks.set(envelope.from, Math.max(watermark, this.#marks.get(envelope.from) ?? WATERMARK_START));
      this.#combiner.update(envelope.from, watermark);
    } else {
      // A record is activity of its upstream partition (idleTimeout) without moving its watermark.
      this.#combiner.update(envelope.from, WATERMARK_START);
      this.#stage.processRecord({ value: envelope.value, timestamp: envelope.time });
    }
    this.#stage.advanceWatermark(this.#combiner.current());
  }

  /** The watermark comes from the upstream partitions' marks: their end (+∞ marks) ends this task. */
  endOfInput(): void {}

  /** From the last commit (its metadata holds each upstream's mark), or from a savepoint (its watermark, every upstream's least). */
  restore(watermark: number, metadata?: Row): void {
    const marks = (metadata?.upstream ?? Object.fromEntries(this.#upstream.map((from) => [from, watermark]))) as Record<string, number | string>;
    for (const [from, mark] of Object.entries(marks)) {
      this.#marks.set(Number(from), decodeWatermark(mark));
      this.#combiner.update(Number(from), decodeWatermark(mark));
    }
    this.#stage.restore(watermark);
  }

  metadata(): Row {
    return { upstream: Object.fromEntries([...this.#marks].map(([from, mark]) => [from, encodeWatermark(mark)])) };
  }
}

/**
 * A repartitioned job on one pod: two exactly-once task sets over the same owned partitions p. Stage 1 reads source
 * partition p and commits, in one transaction, its records and marks in the repartition topic with the source
 * offsets (group sluice-<app>). Stage 2 reads repartition partition p read_committed and commits its results,
 * changelog and repartition offsets in one transaction of its own (group sluice-<app>-repartition). A kill at any
 * point replays, in each stage, exactly what it had not committed.
 */
export class RepartitionedTaskSet {
  readonly stage1: ExactlyOnceTaskSet;
  readonly stage2: ExactlyOnceTaskSet;
  readonly done: Promise<void>;

  constructor(options: ExactlyOnceOptions) {
    const { job } = options;
    // Stage 2's idle-input timeout runs on the job's clock, as its commit interval does.
    const clock = (options.clock ?? systemClock).now;
    const plan = job.repartition;
    if (plan === undefined || job.source.kind !== 'kafka') throw new Error(`job ${job.name} has no repartition stage on Kafka: run it with ExactlyOnceTaskSet`);
    const refusal = repartitionRefusal(job);
    if (refusal !== undefined) throw new Error(`job ${job.name} cannot start: ${refusal}`);
    const source = job.source;
    const applicationId = options.applicationId ?? job.name;
    const topic = repartitionTopic(applicationId, plan);
    const rest: CompiledJob = { ...job };
    delete rest.repartition;
    let partitions = 0;
    const outbox = new MarkingOutbox(topic, () => partitions);
    const events = options.events ?? {};
    const upstreamJob: CompiledJob = { ...rest, tables: [], dataflow: plan.upstream, sinks: [{ name: 'repartition', kind: 'kafka', topic }] };
    this.stage1 = new ExactlyOnceTaskSet({
      ...options,
      job: upstreamJob,
      applicationId,
      // Stage 1 keeps no state: its start and a savepoint restore leave the store, which holds stage 2's, as it is.
      store: new StatelessStore(options.store),
      sinks: [],
      outbox,
      snapshots: undefined,
      discardState: undefined,
      // Stage 1 counts the records read; its results are stage 2's input, not the job's.
      events: { ...events, resultsOut: undefined, late: undefined, snapshotUnreadable: undefined },
      stage: {
        idSuffix: '',
        task: (from, dataflow, { state, outputs }) => {
          const task = new Task(dataflow, {
            state,
            outputs: {
              ...outputs,
              result: (record) => {
                const value = JSON.stringify({ from, time: record.timestamp, value: record.value } satisfies Envelope);
                const refused = outbox.add({ topic, partition: plan.partitionOf(record.value, partitions), key: null, value });
                if (refused !== undefined) outputs.deadLetter({ reason: `repartition topic ${topic}: ${refused}`, record });
              },
            },
          });
          outbox.register(from, task);
          return task;
        },
      },
    });
    const { eventTime, ...downstream } = rest;
    // Stage 1 checked the source's rules as its records entered; what stage 2 reads is stage 1's output.
    delete downstream.rules;
    const idleTimeout = eventTime?.idleTimeout;
    // Stage 2 reads the repartition topic from its start, as JSON whatever the source's format: stage 1 wrote it so.
    this.stage2 = new ExactlyOnceTaskSet({
      ...options,
      job: { ...downstream, tables: [], source: { name: source.name, kind: 'kafka', topic, startingOffsets: 'earliest' }, dataflow: plan.downstream },
      applicationId,
      // Stage 2 reads the repartition topic: the records were counted in when stage 1 read them.
      events: { ...events, recordsIn: undefined },
      stage: {
        idSuffix: STAGE_2_SUFFIX,
        task: (partition, dataflow, taskOptions) => {
          const task = new RepartitionedTask(
            dataflow,
            taskOptions,
            Array.from({ length: partitions }, (_, p) => p),
            idleTimeout,
            clock,
          );
          this.#stage2Tasks.set(partition, task);
          return task;
        },
        // A savepoint holds everything stage 1 wrote before it (see stop): stage 2 goes on after what the topic holds now.
        startOverOffset: (partition) => startOver.get(partition) ?? 0,
      },
    });
    let startOver = new Map<number, number>();
    this.#outbox = outbox;
    this.#start = async () => {
      const { client } = options;
      partitions = await client.partitionCount(source.topic);
      if (partitions === 0)
        throw new Error(`the Kafka topic ${source.topic} does not exist: create it (a Topic resource) or correct spec.sources[0].kafka.topic`);
      await client.ensureTopics([{ topic, partitions }]);
      const written = await client.partitionCount(topic);
      if (written !== partitions) {
        throw new Error(
          `the repartition topic ${topic} has ${written} partitions but source topic ${source.topic} has ${partitions}; they must be as many (ADR 0009): ` +
            `delete ${topic} while the job is stopped (it holds nothing once stage 2 has read it) and the job recreates it`,
        );
      }
      if (options.restoreFrom === undefined) {
        await this.stage1.start();
        await this.stage2.start();
        return;
      }
      await requireDrained(options.restoreFrom, job.name, plan, options.s3);
      // From a savepoint: stage 2 first, committing its start before stage 1 writes anything, so a crash in between
      // finds stage 2 resumed past the old run's records and stage 1 starting over, never the other way round.
      startOver = await client.endOffsets(topic);
      await this.stage2.start();
      await this.stage2.commit();
      await this.stage1.start();
    };
    const purgeEveryMs = options.repartitionPurgeIntervalMs ?? REPARTITION_PURGE_INTERVAL_MS;
    this.#purge = purgeEveryMs > 0 ? new RepartitionPurge(options, topic, this.stage2, purgeEveryMs) : undefined;
    // One stage failing stops the other: the pod exits and both resume from their last commits.
    this.stage1.done.catch(() => this.stage2.stop());
    this.stage2.done.catch(() => this.stage1.stop());
    this.done = Promise.all([this.stage1.done, this.stage2.done]).then(() => undefined);
    this.done.catch(() => undefined);
  }

  readonly #start: () => Promise<void>;
  readonly #purge: RepartitionPurge | undefined;
  readonly #outbox: MarkingOutbox;
  readonly #stage2Tasks = new Map<number, RepartitionedTask>();

  /** Makes sure of the repartition topic (as many partitions as the source), then starts stage 1 and stage 2 (from a savepoint, stage 2 first). */
  async start(): Promise<void> {
    await this.#start();
    this.#purge?.start();
    this.done.finally(() => this.#purge?.stop()).catch(() => undefined);
  }

  /**
   * Stops both stages, each with a final commit. With `drain` (a stop for savepoint `drain.barrier`, which stops every
   * pod of the job) stage 1 ends with a stop mark to every repartition partition, and stage 2 goes on until it has
   * every upstream partition's, so the savepoint holds everything stage 1 wrote before its offsets: a restore needs
   * nothing of the repartition topic.
   */
  async stop(options: { drain?: { barrier: string; timeoutMs: number } } = {}): Promise<void> {
    if (options.drain !== undefined) {
      this.#outbox.barrier = options.drain.barrier;
      await this.stage1.stop();
      await this.#drained(options.drain.barrier, options.drain.timeoutMs).finally(() => this.stage2.stop());
    }
    await Promise.all([this.stage1.stop(), this.stage2.stop()]);
  }

  /**
   * Runs `action` (a savepoint's pin) while the job runs, at a point where stage 2 holds everything stage 1 wrote
   * before stage 1's offsets — the state a stop with drain leaves, without stopping: stage 1 pauses after a transaction
   * that ends with its stop marks of savepoint `barrier`, stage 2 reads on until it has every upstream partition's
   * mark (every pod of the job is asked for the savepoint at once, so every pod's stage 1 pauses at its own mark), the
   * action runs at stage 2's next commit point, and stage 1 goes on. Flink aligns a checkpoint's barriers the same
   * way. Rejects, with both stages going on, when the marks do not all arrive within `timeoutMs`.
   */
  async atSavepointPoint<T>(barrier: string, timeoutMs: number, action: () => Promise<T>): Promise<T> {
    const aligned = async (): Promise<T> => {
      await this.#drained(barrier, timeoutMs);
      return this.stage2.atCommitPoint(action);
    };
    this.#outbox.barrier = barrier;
    try {
      return await this.stage1.atCommitPoint(async () => {
        // The commit point's transaction took the marks; stage 1 writes nothing more until this returns.
        this.#outbox.barrier = undefined;
        // Checked again here, with stage 1 paused: it may have read an end marker since the caller looked.
        const ended = this.endedSourcePartitions();
        if (ended.length > 0) throw new Error(endedRefusal(ended));
        return aligned();
      });
    } finally {
      this.#outbox.barrier = undefined;
    }
  }

  /**
   * The source partitions a bounded run (end markers) has read to their end: a savepoint after that would restore
   * stage 1 past its end marker, and the restored run would wait for it forever.
   */
  endedSourcePartitions(): number[] {
    return this.stage1
      .positions()
      .filter(({ watermark }) => watermark === WATERMARK_END)
      .map(({ partition }) => partition);
  }

  /** Resolves once every stage 2 task has read every upstream partition's mark of `barrier`; rejects after `timeoutMs` or when stage 2 stops. */
  async #drained(barrier: string, timeoutMs: number): Promise<void> {
    const tasks = [...this.#stage2Tasks];
    const deadline = Date.now() + timeoutMs;
    while (!tasks.every(([, task]) => task.drainedFor(barrier))) {
      if (this.stage2.phase !== 'running') throw new Error(`stage 2 of the repartition stage is ${this.stage2.phase}, so savepoint ${barrier} cannot be taken`);
      if (Date.now() >= deadline) {
        const waiting = tasks
          .filter(([, task]) => !task.drainedFor(barrier))
          .map(([partition, task]) => `repartition partition ${partition} from source partitions ${task.waitingFor(barrier).join(', ')}`);
        throw new Error(
          `savepoint ${barrier}: the repartition topic did not drain within ${Math.round(timeoutMs / 1000)}s (still waiting for the marks of ${waiting.join('; ')}); ` +
            'every pod of the job must be asked for the same savepoint at once (streamctl savepoint, or the controller): check that all of them run, then try again',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  get phase(): Phase {
    const phases = [this.stage1.phase, this.stage2.phase];
    for (const phase of ['failed', 'stopping', 'starting', 'restoring'] as const) if (phases.includes(phase)) return phase;
    return phases.every((phase) => phase === 'finished') ? 'finished' : 'running';
  }

  get groupId(): string {
    return this.stage1.groupId;
  }

  get sourceTopic(): string {
    return this.stage1.sourceTopic;
  }

  get partitions(): number[] {
    return this.stage1.partitions;
  }

  get restoredRecords(): number {
    return this.stage2.restoredRecords;
  }

  get restoredFromSnapshot(): number[] {
    return this.stage2.restoredFromSnapshot;
  }

  get restoredFromSavepoint(): string | undefined {
    return this.stage2.restoredFromSavepoint ?? this.stage1.restoredFromSavepoint;
  }

  get discardedState(): string | undefined {
    return this.stage2.discardedState;
  }

  /** The source's lag: what users wait on. */
  get lag(): ReadonlyMap<number, number> {
    return this.stage1.lag;
  }

  /** Each owned partition's source offset (stage 1) and the job's watermark there (stage 2's: the windows'). */
  positions(): { partition: number; offset: number; watermark: number }[] {
    const watermarks = new Map(this.stage2.positions().map(({ partition, watermark }) => [partition, watermark]));
    return this.stage1.positions().map(({ partition, offset }) => ({ partition, offset, watermark: watermarks.get(partition) ?? WATERMARK_START }));
  }

  /** Stage 2 holds the job's state: a checkpoint is taken at its commit points. */
  atCommitPoint<T>(action: () => Promise<T>): Promise<T> {
    return this.stage2.atCommitPoint(action);
  }

  changelogPositions(): Promise<Map<number, number | null>> {
    return this.stage2.changelogPositions();
  }
}

/** Why a bounded run takes no savepoint once a source partition has ended. */
export function endedRefusal(ended: readonly number[]): string {
  return `this bounded run has read source partitions ${ended.join(', ')} to their end markers, so a savepoint now could not be restored (its stage 1 would wait past the end for ever): take it before the input ends`;
}

/**
 * Deletes, every interval, the repartition topic's records before the offsets stage 2 committed for the pod's
 * partitions: a restart resumes from those offsets, and a savepoint holds none of the topic, so nothing reads them
 * again. Without it the topic grows by the source's volume for its whole retention. A failed delete (a user without
 * DELETE on the topic) is reported and tried again at the next interval: the job goes on.
 */
class RepartitionPurge {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  readonly #purged = new Map<number, number>();

  constructor(
    private readonly options: ExactlyOnceOptions,
    private readonly topic: string,
    private readonly stage2: ExactlyOnceTaskSet,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.#once());
    }, this.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #once(): Promise<void> {
    const { client, events } = this.options;
    try {
      const owned = new Set(this.stage2.partitions);
      const committed = await client.committedOffsets(this.stage2.groupId, this.topic);
      const before = new Map(
        [...committed]
          .filter(([partition, { offset }]) => owned.has(partition) && offset > (this.#purged.get(partition) ?? 0))
          .map(([p, { offset }]) => [p, offset]),
      );
      if (before.size === 0) return;
      await client.deleteRecordsBefore(this.topic, before);
      for (const [partition, offset] of before) this.#purged.set(partition, offset);
      events?.repartitionPurged?.(this.topic, { before });
    } catch (error) {
      events?.repartitionPurged?.(this.topic, { error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
}

/** The store as stage 1 sees it: it keeps no state, so it neither drops (start) nor writes (savepoint restore) stage 2's. */
class StatelessStore implements StateStore {
  constructor(private readonly store: StateStore) {}

  get dir(): string {
    return this.store.dir;
  }

  view(namespace: StateNamespace): StoreView {
    return this.store.view(namespace);
  }

  batch(): StoreBatch {
    const ignored: StoreBatch = { length: 0, put: () => ignored, delete: () => ignored, write: () => undefined };
    return ignored;
  }

  checkpoint(partitions: readonly number[]): StoreCheckpoint {
    return this.store.checkpoint(partitions);
  }

  dropPartition(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Only a savepoint (taken at a stop, or while running at a drained point: see stop and atSavepointPoint) holds everything
 * stage 1 wrote before its offsets: a checkpoint, taken while the stages run apart, does not, and a restore from it would
 * count some records twice.
 */
async function requireDrained(location: string, job: string, plan: RepartitionPlan, s3: S3Settings | undefined): Promise<void> {
  const found = await requireSnapshot(location, { job }, s3 === undefined ? {} : { s3 });
  found.storage.close();
  if (!found.manifest.specHash.endsWith(repartitionedSnapshotTag(plan))) {
    throw new Error(
      `job ${job} cannot start from ${found.manifest.kind} ${found.manifest.id}: it was taken by a version of the job that did not repartition by ${plan.key} (${plan.path}), ` +
        "whose state holds each key under its source partition rather than under its key's hash, so restoring it would split keys' state; " +
        'start from the last commit instead (no SLUICE_RESTORE_FROM; spec.upgradeMode last-state or stateless), or from a savepoint the repartitioned job took',
    );
  }
  if (found.manifest.kind !== 'savepoint') {
    throw new Error(
      `job ${job} cannot start from ${found.manifest.kind} ${found.manifest.id}: a repartitioned job (${plan.path} by ${plan.key}) restores only from a savepoint, ` +
        'whose state holds every record its repartition topic held (a checkpoint is taken while records are in flight there): give a savepoint ' +
        '(an upgrade, rescale or suspend takes one, and so does streamctl savepoint)',
    );
  }
}
