import { compileAggregates } from '../aggregate/aggregates.js';
import { keyByFields } from '../dataflow/keys.js';
import type { OperatorContext } from '../dataflow/operator.js';
import { progressLine } from '../runner/progress.js';
import { MemoryKeyedState, type StateCodec } from '../state/keyed.js';
import { DATE_RANGE_MS } from '../time/iso8601.js';
import { WATERMARK_END } from '../time/watermark.js';
import { tumbling } from './assigners.js';
import { WindowOperator } from './operator.js';

/** A 5-minute tumbling count per key k; returns the results it fires. */
function countWindows(): { operator: WindowOperator; results: Record<string, unknown>[] } {
  const results: Record<string, unknown>[] = [];
  const context: OperatorContext = {
    operatorId: 'window-1',
    output: { record: ({ value }) => results.push(value), watermark: () => undefined },
    late: () => undefined,
    deadLetter: (reason) => {
      throw new Error(`dead-lettered: ${reason}`);
    },
    keyedState: <V>(_codec: StateCodec<V>) => new MemoryKeyedState<V>([]),
  };
  const operator = new WindowOperator(
    { assigner: tumbling('5m'), allowedLateness: 0, key: keyByFields(['k']), aggregates: compileAggregates([{ name: 'n', fn: 'count' }]) },
    context,
  );
  return { operator, results };
}

describe('times at the edge of the Date range', () => {
  it('a window that ends past the last Date fires with its bounds written in expanded-year ISO-8601', () => {
    const { operator, results } = countWindows();
    operator.processRecord({ value: { k: 'a' }, timestamp: DATE_RANGE_MS });
    operator.processRecord({ value: { k: 'b' }, timestamp: -DATE_RANGE_MS - 1 });
    operator.processWatermark(WATERMARK_END);
    expect(results).toEqual([
      { k: 'b', window_start: '-271821-04-19T23:55:00.000Z', window_end: '-271821-04-20T00:00:00.000Z', n: 1 },
      { k: 'a', window_start: '+275760-09-13T00:00:00.000Z', window_end: '+275760-09-13T00:05:00.000Z', n: 1 },
    ]);
  });

  it('the progress line shows a watermark past the last Date', () => {
    const counts = { recordsIn: 1, resultsOut: 0, late: 0, deadLettered: 0 };
    expect(progressLine('job', counts, 0, DATE_RANGE_MS + 60_000)).toMatch(/watermark \+275760-09-13 00:01:00Z$/);
  });
});
