// A repartition stage's task: the operators after keyBy for one repartition partition, whose watermark is the minimum over its upstream tasks' (not its own records').
import type { Dataflow } from '../dataflow/datastream.js';
import type { Operator, Output, StreamRecord } from '../dataflow/operator.js';
import type { TaskOptions } from '../dataflow/task.js';
import { WATERMARK_START } from '../time/watermark.js';

export class StageTask {
  readonly #head: Output;
  readonly #operators: readonly Operator[];
  #watermark = WATERMARK_START;

  /** `dataflow` is a plan's downstream: its first node reads the repartition stage, each later one the node before. */
  constructor(dataflow: Dataflow, options: TaskOptions) {
    const { outputs, state } = options;
    let downstream: Output = { record: (record) => outputs.result(record), watermark: () => undefined };
    const operators: Operator[] = [];
    for (const node of [...dataflow.nodes].reverse()) {
      const operator = node.create({
        operatorId: node.id,
        output: downstream,
        late: (record) => outputs.late(record),
        deadLetter: (reason, record) => outputs.deadLetter({ reason, record }),
        keyedState: (codec) => state(node.id, codec),
      });
      operators.unshift(operator);
      downstream = { record: (record) => operator.processRecord(record), watermark: (watermark) => operator.processWatermark(watermark) };
    }
    this.#operators = operators;
    this.#head = downstream;
  }

  get watermark(): number {
    return this.#watermark;
  }

  /** A record routed here by its key; it does not move the watermark, which only the upstream tasks' marks do. */
  processRecord(record: StreamRecord): void {
    this.#head.record(record);
  }

  /** The minimum over the upstream tasks moved to `watermark`: fire what is due (a watermark never goes back). */
  advanceWatermark(watermark: number): void {
    if (watermark <= this.#watermark) return;
    this.#watermark = watermark;
    this.#head.watermark(watermark);
  }

  /** Continues from a snapshot's watermark: the state given to the constructor holds the rest. */
  restore(watermark: number): void {
    this.#watermark = watermark;
    for (const operator of this.#operators) operator.restore(watermark);
  }
}
