// The repartition stage on Kafka: stage 1 writes each record to the job's repartition topic by its key's hash, with watermark marks, and stage 2 reads it, each stage exactly once.
import type { CompiledJob } from '../compiler/job.js';
import type { Dataflow } from '../dataflow/datastream.js';
import type { TaskOptions } from '../dataflow/task.js';
import { Task } from '../dataflow/task.js';
import { ExactlyOnceTaskSet, type ExactlyOnceOptions, type Phase, type PartitionTask } from '../kafka/exactly-once.js';
import { TransactionOutbox } from '../kafka/sink.js';
import { type Clock, WATERMARK_START, WatermarkCombiner } from '../time/watermark.js';
import { repartitionRefusal, repartitionTopic } from './kafka.js';
import { StageTask } from './stage-task.js';

type Row = Record<string, unknown>;

/** Appended to stage 2's consumer group and transactional ids; stage 1 keeps the job's own (its offsets are the source's). */
const STAGE_2_SUFFIX = '-repartition';

/** JSON has no infinities: a watermark at either end is written as its text. */
const encodeWatermark = (watermark: number): number | string => (Number.isFinite(watermark) ? watermark : String(watermark));
const decodeWatermark = (watermark: unknown): number => (typeof watermark === 'number' ? watermark : Number(watermark));

/**
 * A message of the repartition topic: a record of upstream partition `from` with its event time, or a watermark mark
 * (upstream partition `from` has reached `watermark`, so nothing older follows from it).
 */
type Envelope = { from: number; time: number; value: Row } | { from: number; watermark: number | string };

/**
 * Stage 1's outbox: before each transaction takes its messages, every stage 1 task whose watermark moved since its
 * last mark adds one to every repartition partition, after the records it wrote (Flink broadcasts watermarks over a
 * keyBy the same way). One mark per partition per commit, however many records moved the watermark.
 */
class MarkingOutbox extends TransactionOutbox {
  readonly #tasks = new Map<number, Task>();
  readonly #marked = new Map<number, number>();

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
      for (let partition = 0; partition < this.partitions(); partition++) this.add({ topic: this.topic, partition, key: null, value });
    }
    return super.take();
  }
}

/**
 * Stage 2's task for one repartition partition: its records come from every upstream partition, and its watermark is
 * the minimum of their last marks (an upstream without records or marks for idleTimeout excepted). The marks are
 * kept in the committed offset's metadata, so a restart continues from each upstream's, not from their minimum.
 */
class RepartitionedTask implements PartitionTask {
  readonly #stage: StageTask;
  readonly #combiner: WatermarkCombiner;
  readonly #marks = new Map<number, number>();

  constructor(dataflow: Dataflow, options: TaskOptions, upstream: readonly number[], idleTimeout: number | undefined, clock: Clock) {
    this.#stage = new StageTask(dataflow, options);
    this.#combiner = new WatermarkCombiner(upstream, { idleTimeout, clock });
  }

  get watermark(): number {
    return this.#stage.watermark;
  }

  processRecord(value: Row): void {
    const envelope = value as Envelope;
    if (typeof envelope.from !== 'number') throw new Error('a message of the repartition topic has no upstream partition ("from"): only the job\'s stage 1 writes this topic');
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

  restore(watermark: number, metadata?: Row): void {
    const marks = (metadata?.upstream ?? {}) as Record<string, number | string>;
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

  constructor(options: ExactlyOnceOptions, clock: Clock = Date.now) {
    const { job } = options;
    const plan = job.repartition;
    if (plan === undefined || job.source.kind !== 'kafka') throw new Error(`job ${job.name} has no repartition stage on Kafka: run it with ExactlyOnceTaskSet`);
    const refusal = repartitionRefusal(job);
    if (refusal !== undefined) throw new Error(`job ${job.name} cannot start: ${refusal}`);
    if (options.restoreFrom !== undefined) {
      throw new Error(
        `job ${job.name} cannot start from snapshot ${options.restoreFrom}: restoring a repartitioned job (${plan.path} by ${plan.key}) from a savepoint arrives in a later release of Sluice; start it without SLUICE_RESTORE_FROM (it resumes from its last commit)`,
      );
    }
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
      sinks: [],
      outbox,
      snapshots: undefined,
      restoreFrom: undefined,
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
        task: (_partition, dataflow, taskOptions) => new RepartitionedTask(dataflow, taskOptions, Array.from({ length: partitions }, (_, p) => p), idleTimeout, clock),
      },
    });
    this.#start = async () => {
      const { client } = options;
      partitions = await client.partitionCount(source.topic);
      await this.stage1.start();
      const written = await client.partitionCount(topic);
      if (written !== partitions) {
        await this.stage1.stop();
        throw new Error(
          `the repartition topic ${topic} has ${written} partitions but source topic ${this.stage1.sourceTopic} has ${partitions}; they must be as many (ADR 0009): ` +
            `delete ${topic} while the job is stopped (it holds nothing once stage 2 has read it) and the job recreates it`,
        );
      }
      await this.stage2.start();
    };
    // One stage failing stops the other: the pod exits and both resume from their last commits.
    this.stage1.done.catch(() => this.stage2.stop());
    this.stage2.done.catch(() => this.stage1.stop());
    this.done = Promise.all([this.stage1.done, this.stage2.done]).then(() => undefined);
    this.done.catch(() => undefined);
  }

  readonly #start: () => Promise<void>;

  /** Stage 1 first: it creates the repartition topic (as many partitions as the source) that stage 2 reads. */
  start(): Promise<void> {
    return this.#start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.stage1.stop(), this.stage2.stop()]);
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
    return undefined;
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
