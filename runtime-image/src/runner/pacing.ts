// Pacing generated input: as fast as possible until the stream's event time catches up with now, then at its rate.
import { setTimeout as sleep } from 'node:timers/promises';
import { split } from '../connectors/paced.js';
import type { ReadOptions, Source } from '../connectors/source.js';

/** How much of a second one released step covers: small enough to look continuous, large enough to be cheap. */
const STEP_SECONDS = 0.01;

/**
 * `source` with its first `catchUp` records released at once (a generator started in the past replays up to now)
 * and the rest at no more than `rate` records a second of wall-clock time. A rate of 0 leaves it unpaced.
 */
export function catchUpThenPaced(source: Source, rate: number, catchUp: number): Source {
  if (rate === 0) return source;
  const step = Math.max(1, Math.ceil(rate * STEP_SECONDS));
  return {
    bounded: source.bounded,
    partitions: () => source.partitions(),
    close: () => source.close(),
    async *read(options?: ReadOptions) {
      let released = 0;
      let pacedSince: number | undefined;
      for await (const batch of source.read(options)) {
        for (const part of split(batch, step)) {
          if (released >= catchUp) {
            pacedSince ??= performance.now() - ((released - catchUp) / rate) * 1000;
            const wait = pacedSince + ((released - catchUp) / rate) * 1000 - performance.now();
            if (wait >= 1) await sleep(wait);
          }
          released += part.records.length + part.rejected.length;
          yield part;
        }
      }
    },
  };
}
