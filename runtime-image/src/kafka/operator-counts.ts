// Records into and out of each operator of one task, counted by wrapping the nodes of its dataflow; taken once per commit for the metrics.
import type { KeyValue } from '../dataflow/keys.js';
import type { Dataflow } from '../dataflow/datastream.js';
import type { Operator, OperatorContext, StreamRecord } from '../dataflow/operator.js';

export interface OperatorCount {
  operatorId: string;
  recordsIn: number;
  recordsOut: number;
}

/**
 * Plain numbers on the hot path, handed to the metrics in one step per commit: a Prometheus counter
 * increment per record and operator would cost more than the operator itself.
 */
export class OperatorCounts {
  readonly #counts = new Map<string, OperatorCount>();

  /** The same dataflow, with each operator's records in and out counted here. */
  wrap(dataflow: Dataflow): Dataflow {
    return {
      ...dataflow,
      nodes: dataflow.nodes.map((node) => ({
        ...node,
        create: (context: OperatorContext): Operator => {
          const count: OperatorCount = { operatorId: node.id, recordsIn: 0, recordsOut: 0 };
          this.#counts.set(node.id, count);
          const output = context.output;
          const operator = node.create({
            ...context,
            output: {
              record: (record: StreamRecord) => {
                count.recordsOut += 1;
                output.record(record);
              },
              watermark: (watermark: number) => output.watermark(watermark),
            },
          });
          return {
            id: operator.id,
            processRecord: (record) => {
              count.recordsIn += 1;
              operator.processRecord(record);
            },
            processWatermark: (watermark) => operator.processWatermark(watermark),
            restore: (watermark) => operator.restore(watermark),
            // An asynchronous operator's backpressure and settling (a score step's) must reach the task through the count.
            ...(operator.room === undefined ? {} : { room: () => operator.room!() }),
            ...(operator.settle === undefined ? {} : { settle: () => operator.settle!() }),
            // A GDPR erasure (erasure/) reaches the operator's state through the wrapper too.
            ...(operator.eraseKey === undefined ? {} : { eraseKey: (subject: KeyValue) => operator.eraseKey!(subject) }),
          };
        },
      })),
    };
  }

  /** The counts since the last call, for the operators that saw records. */
  take(): OperatorCount[] {
    const taken: OperatorCount[] = [];
    for (const count of this.#counts.values()) {
      if (count.recordsIn === 0 && count.recordsOut === 0) continue;
      taken.push({ ...count });
      count.recordsIn = 0;
      count.recordsOut = 0;
    }
    return taken;
  }
}
