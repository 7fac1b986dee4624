// Where a join's other input resumes per partition: the next offset not yet applied, kept in the join's keyed state, so a restored task neither loses nor re-applies a message.
import type { Json, KeyedState } from '../state/keyed.js';

const positionKey = (partition: number): string => `position/${partition}`;

export class ReadPositions {
  constructor(private readonly state: KeyedState<Json>) {}

  /** The next offset of `partition` this task has not applied yet. */
  position(partition: number): number {
    const stored = this.state.get(positionKey(partition));
    return typeof stored === 'number' ? stored : 0;
  }

  /** The input is read up to `next` in `partition` (past lines that were no message, say): later reads start there. */
  reached(partition: number, next: number): void {
    if (next > this.position(partition)) this.state.put(positionKey(partition), next);
  }

  /** Claims the message at `offset` of `partition`: false when this task applied it already, else moves past it. */
  claim(partition: number, offset: number): boolean {
    if (offset < this.position(partition)) return false;
    this.state.put(positionKey(partition), offset + 1);
    return true;
  }
}
