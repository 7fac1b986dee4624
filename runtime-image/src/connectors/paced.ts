// Pacing a source to the wall clock: at most `rate` records per second, released in small steps.
import { systemClock, type RuntimeClock } from '../time/clock.js';
import type { ReadOptions, Rejected, Source, SourceBatch } from './source.js';

/** How much of a second one released step covers: small enough to look continuous, large enough to be cheap. */
const STEP_SECONDS = 0.01;

/**
 * `source`, released at no more than `rate` records (rejected inputs included) per second of wall-clock time,
 * counted over the records this read delivers. A pod that reads k of a generator's P partitions therefore
 * passes rate × k / P to keep the whole stream at `rate`. A rate of 0 leaves the source unpaced. The first
 * `catchUp` records are released at once: a generator started in the past replays up to now, then keeps pace.
 * `clock` tells the time and waits (a test's manual one makes the waits instant and exact).
 */
export function paced(source: Source, rate: number, catchUp = 0, clock: RuntimeClock = systemClock): Source {
  if (!(rate >= 0 && Number.isFinite(rate))) throw new Error(`pacing rate ${rate} is not valid; use events per second ≥ 0 (0 = as fast as possible)`);
  if (rate === 0) return source;
  const step = Math.max(1, Math.ceil(rate * STEP_SECONDS));
  return {
    bounded: source.bounded,
    partitions: () => source.partitions(),
    close: () => source.close(),
    async *read(options?: ReadOptions) {
      let released = 0;
      let pacedSince: number | undefined = catchUp === 0 ? clock.now() : undefined;
      for await (const batch of source.read(options)) {
        for (const part of split(batch, step)) {
          if (released >= catchUp) {
            pacedSince ??= clock.now() - ((released - catchUp) / rate) * 1000;
            const wait = pacedSince + ((released - catchUp) / rate) * 1000 - clock.now();
            if (wait >= 1) await clock.sleep(wait);
          }
          released += part.records.length + part.rejected.length;
          yield part;
        }
      }
    },
  };
}

/** Cuts a batch into batches of at most `size` records, each with the rejected inputs of its offset range. */
export function split(batch: SourceBatch, size: number): SourceBatch[] {
  if (batch.records.length <= size) return [batch];
  const parts: SourceBatch[] = [];
  let rejected: Rejected[] = batch.rejected;
  for (let i = 0; i < batch.records.length; i += size) {
    const records = batch.records.slice(i, i + size);
    const last = i + size >= batch.records.length;
    const next = last ? batch.next : records[records.length - 1]!.offset + 1;
    parts.push({ partition: batch.partition, records, rejected: last ? rejected : rejected.filter((r) => r.offset < next), next });
    rejected = last ? [] : rejected.filter((r) => r.offset >= next);
  }
  return parts;
}
