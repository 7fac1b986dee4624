// The repartition stage in one process (streamctl run): stage 1 tasks route each record by its key's hash to a stage 2 task in memory, and their watermarks with it.
import type { CompiledJob } from '../compiler/job.js';
import type { Positions, Source } from '../connectors/source.js';
import type { KeyedStateFactory } from '../state/keyed.js';
import { operatorStates } from '../state/job-state.js';
import type { TaskState } from '../state/task-state.js';
import { Task, type TaskOutputs } from '../dataflow/task.js';
import { type Clock, WatermarkCombiner } from '../time/watermark.js';
import type { RepartitionPlan } from './plan.js';
import { StageTask } from './stage-task.js';

/** What the runner drives for a source partition: a plain task, or a stage 1 task of a repartitioned job. */
export type SourceTask = Pick<Task, 'processRecord' | 'endOfInput' | 'restore' | 'watermark' | 'counts'>;

export interface LocalRepartitionOptions {
  plan: RepartitionPlan;
  /** Every partition of the source: the stage 2 watermark waits for each (or for idleTimeout). */
  sourcePartitions: readonly number[];
  /** The keyed state of stage 2 task `partition` (repartition partitions 0 … sourcePartitions.length − 1). */
  stageState(partition: number): KeyedStateFactory;
  outputs: TaskOutputs;
  /** spec.sources[0].eventTime.idleTimeout: a source partition without data this long stops holding stage 2 back. */
  idleTimeout?: number | undefined;
  clock: Clock;
}

/**
 * Every upstream task sends its watermark to every stage 2 task (Flink's broadcast of watermarks over a keyBy), so
 * all stage 2 tasks see the same marks and share one combiner: each one's watermark is the minimum over the source
 * partitions. Records move synchronously, so nothing is ever in flight between the stages: a snapshot of both
 * stages' state with the source offsets is consistent.
 */
export class LocalRepartition {
  readonly #stages: readonly StageTask[];
  readonly #plan: RepartitionPlan;
  readonly #outputs: TaskOutputs;
  readonly #combiner: WatermarkCombiner;

  constructor(options: LocalRepartitionOptions) {
    const { plan, sourcePartitions, outputs } = options;
    this.#plan = plan;
    this.#outputs = outputs;
    // As many repartition partitions as source partitions: the parallelism limit and state placement stay the source's.
    this.#stages = sourcePartitions.map((_, partition) => new StageTask(plan.downstream, { state: options.stageState(partition), outputs }));
    this.#combiner = new WatermarkCombiner(sourcePartitions, { idleTimeout: options.idleTimeout, clock: options.clock });
  }

  /** The stage 1 task of source partition `partition`, its keyed state from `state`. */
  upstream(partition: number, state: KeyedStateFactory): SourceTask {
    const count = this.#stages.length;
    const route = (record: Parameters<TaskOutputs['result']>[0]): void => this.#stages[this.#plan.partitionOf(record.value, count)]!.processRecord(record);
    const task = new Task(this.#plan.upstream, { state, outputs: { ...this.#outputs, result: route } });
    let marked = task.watermark;
    // Every record counts as activity (idleTimeout); only one that moves the partition's watermark can move stage 2's.
    const mark = (): void => {
      this.#combiner.update(partition, task.watermark);
      if (task.watermark <= marked) return;
      marked = task.watermark;
      this.#advance();
    };
    return {
      counts: task.counts,
      get watermark() {
        return task.watermark;
      },
      processRecord: (value, timestamp, key) => {
        task.processRecord(value, timestamp, key);
        mark();
      },
      endOfInput: () => {
        task.endOfInput();
        mark();
      },
      // Stage 2 is restored once every source partition is: see restored().
      restore: (watermark) => {
        task.restore(watermark);
        this.#combiner.update(partition, watermark);
      },
    };
  }

  /** After a restore: the stage 2 tasks continue from the minimum of the restored source partitions' watermarks. */
  restored(): void {
    const watermark = this.#combiner.current();
    for (const stage of this.#stages) stage.restore(watermark);
  }

  #advance(): void {
    const combined = this.#combiner.current();
    for (const stage of this.#stages) stage.advanceWatermark(combined);
  }
}

/** What runJob needs of a repartitioned run: stage 1 tasks to open, stage 2 state to flush. */
export interface RunnerStages {
  open(partition: number, state: TaskState): SourceTask;
  /** Before the first record: opens every source partition (each one holds stage 2's watermark) and restores stage 2 after a restore. */
  started(restored: Positions, opened: ReadonlyMap<number, unknown>, open: (partition: number) => unknown): void;
  flush(): void;
}

/**
 * The two stages of a run whose keyBy is not the source's partitioning; undefined for a job without a repartition
 * stage or a source of one partition (where every key is in the one task anyway).
 */
export async function repartitionStages(
  options: { job: CompiledJob; source: Source },
  stateOf: (partition: number) => TaskState,
  outputs: TaskOutputs,
): Promise<RunnerStages | undefined> {
  const { job, source } = options;
  const plan = job.repartition;
  if (plan === undefined) return undefined;
  const sourcePartitions = await source.partitions();
  if (sourcePartitions.length <= 1) return undefined;
  const states = sourcePartitions.map((_, partition) => stateOf(partition));
  const stages = new LocalRepartition({
    plan,
    sourcePartitions,
    stageState: (partition) => operatorStates(plan.downstream, states[partition]!),
    outputs,
    idleTimeout: job.eventTime?.idleTimeout,
    clock: Date.now,
  });
  return {
    open: (partition, state) => stages.upstream(partition, operatorStates(plan.upstream, state)),
    started: (restored, opened, open) => {
      const saved = Object.keys(restored).map(Number);
      if (saved.length > 0) {
        if (saved.length !== sourcePartitions.length || !sourcePartitions.every((partition) => saved.includes(partition))) {
          throw new Error(
            `the snapshot holds source partitions ${saved.join(', ')} but the input has ${sourcePartitions.join(', ')}; a job with a repartition stage (${plan.path} by ${plan.key}) restores in streamctl run at the parallelism it was saved at: pass --parallelism ${saved.length}`,
          );
        }
      }
      for (const partition of sourcePartitions) if (!opened.has(partition)) open(partition);
      if (saved.length > 0) stages.restored();
    },
    flush: () => {
      for (const state of states) state.flush();
    },
  };
}
