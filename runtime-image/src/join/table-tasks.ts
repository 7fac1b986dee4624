// The join operators of a runner's tasks, by table: where each table's reading resumes, and which tasks a table message goes to.
import type { Dataflow } from '../dataflow/datastream.js';
import type { Operator, OperatorContext } from '../dataflow/operator.js';
import { IntervalJoinOperator } from './interval-join.js';
import { type TableChange, TableJoinOperator } from './table-join.js';

/** A join operator fed from another source: a table join (its rows), or an interval join (the other stream's records). */
type JoinInput = TableJoinOperator | IntervalJoinOperator;

/** What a table message could not do: its reason, for the dead-letter output. */
export interface TableRejection {
  reason: string;
  change: TableChange;
}

export class TableJoinTasks {
  /** Per task (source partition), its join operators. */
  readonly #joins = new Map<number, JoinInput[]>();

  /** The task's dataflow, with its join operators recorded here as the task creates them. */
  wrap(dataflow: Dataflow, task: number): Dataflow {
    const joins: JoinInput[] = [];
    this.#joins.set(task, joins);
    return {
      ...dataflow,
      nodes: dataflow.nodes.map((node) =>
        node.kind !== 'join'
          ? node
          : {
              ...node,
              create: (context: OperatorContext): Operator => {
                const operator = node.create(context);
                if (operator instanceof TableJoinOperator || operator instanceof IntervalJoinOperator) joins.push(operator);
                return operator;
              },
            },
      ),
    };
  }

  /**
   * Where to read each table partition from: the least position over the tasks that apply it (each task skips what
   * it applied already). A co-partitioned table's partition p belongs to task p alone; a broadcast one's to every task.
   */
  positions(table: string, partitions: readonly number[]): Record<number, number> {
    const from: Record<number, number> = {};
    for (const partition of partitions) {
      const positions = this.#readers(table, partition).map((join) => join.position(partition));
      if (positions.length > 0) from[partition] = Math.min(...positions);
    }
    return from;
  }

  /** The table partitions some task here applies: a co-partitioned table's are the tasks' own. */
  partitionsRead(table: string, partitions: readonly number[]): number[] {
    return partitions.filter((partition) => this.#readers(table, partition).length > 0);
  }

  /** Applies a table message to every task that holds its partition; returns the tasks it changed and what was refused. */
  apply(table: string, change: TableChange): { tasks: number[]; rejected?: TableRejection } {
    const tasks: number[] = [];
    let rejected: TableRejection | undefined;
    for (const [task, joins] of this.#joins) {
      for (const join of joins) {
        if (join.table !== table || (!join.broadcast && task !== change.partition)) continue;
        const reason = join.apply(change);
        // A broadcast table's bad message is refused by every task alike: reported once.
        if (reason !== undefined) rejected ??= { reason, change };
        if (!tasks.includes(task)) tasks.push(task);
      }
    }
    return rejected === undefined ? { tasks } : { tasks, rejected };
  }

  /** The table's partition is read up to `next`: what was not a message before it (a bad line) is not read again. Returns the tasks that hold it. */
  reached(table: string, partition: number, next: number): number[] {
    const tasks: number[] = [];
    for (const [task, joins] of this.#joins) {
      for (const join of joins) {
        if (join.table !== table || (!join.broadcast && task !== partition)) continue;
        join.reached(partition, next);
        if (!tasks.includes(task)) tasks.push(task);
      }
    }
    return tasks;
  }

  /** An interval join's other stream has ended in every partition: its watermark moves to +∞. */
  ended(source: string): void {
    for (const joins of this.#joins.values()) for (const join of joins) if (join.table === source && join instanceof IntervalJoinOperator) join.endOfOther();
  }

  #readers(table: string, partition: number): JoinInput[] {
    const readers: JoinInput[] = [];
    for (const [task, joins] of this.#joins) {
      for (const join of joins) if (join.table === table && (join.broadcast || task === partition)) readers.push(join);
    }
    return readers;
  }
}
