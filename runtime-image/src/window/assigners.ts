// Event-time window assigners with Flink's formulas: tumbling, sliding and session windows, epoch-aligned.
import { type DurationLike, toMillis } from '../time/duration.js';

/** A window [start, end) in event time, epoch milliseconds. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export type WindowKind = 'tumbling' | 'sliding' | 'session';

export interface WindowAssigner {
  readonly kind: WindowKind;
  /** Session windows merge when they meet; tumbling and sliding windows never do. */
  readonly merging: boolean;
  /** The windows a record with this event time belongs to, before any merging. */
  assign(timestamp: number): TimeWindow[];
}

/** The last event time inside the window; the window fires when the watermark reaches it. */
export function maxTimestamp(window: TimeWindow): number {
  return window.end - 1;
}

/** Flink's TimeWindow.getWindowStartWithOffset with offset 0: windows start at multiples of `size` since the epoch. */
export function windowStart(timestamp: number, size: number): number {
  const remainder = timestamp % size;
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
}

/** Flink's TimeWindow.intersects: windows that overlap or touch. */
export function intersects(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && a.end >= b.start;
}

export function cover(a: TimeWindow, b: TimeWindow): TimeWindow {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

export function sameWindow(a: TimeWindow, b: TimeWindow): boolean {
  return a.start === b.start && a.end === b.end;
}

/** A group of windows that merge into `window`. */
export interface WindowMerge {
  readonly window: TimeWindow;
  readonly merged: readonly TimeWindow[];
}

/**
 * Flink's TimeWindow.mergeWindows: sorts by start and sweeps, folding every window that intersects
 * the current cover into it; returns only the groups of two or more windows.
 */
export function mergeWindows(windows: readonly TimeWindow[]): WindowMerge[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const groups: { window: TimeWindow; merged: TimeWindow[] }[] = [];
  for (const candidate of sorted) {
    const current = groups.at(-1);
    if (current !== undefined && intersects(current.window, candidate)) {
      current.window = cover(current.window, candidate);
      current.merged.push(candidate);
    } else {
      groups.push({ window: candidate, merged: [candidate] });
    }
  }
  return groups.filter((group) => group.merged.length > 1);
}

function positive(what: string, value: DurationLike): number {
  const ms = toMillis(value);
  if (ms <= 0) throw new RangeError(`a window ${what} must be longer than 0, not ${JSON.stringify(value)}`);
  return ms;
}

/** Fixed windows of `size` that do not overlap: [k·size, (k+1)·size). */
export function tumbling(size: DurationLike): WindowAssigner & { readonly size: number } {
  const sizeMs = positive('size', size);
  return {
    kind: 'tumbling',
    merging: false,
    size: sizeMs,
    assign: (timestamp) => {
      const start = windowStart(timestamp, sizeMs);
      return [{ start, end: start + sizeMs }];
    },
  };
}

/**
 * Windows of `size` starting every `slide` (Flink's SlidingEventTimeWindows): a record belongs to
 * every window with start ≡ 0 (mod slide) and start ≤ ts < start + size, latest start first.
 */
export function sliding(size: DurationLike, slide: DurationLike): WindowAssigner & { readonly size: number; readonly slide: number } {
  const sizeMs = positive('size', size);
  const slideMs = positive('slide', slide);
  return {
    kind: 'sliding',
    merging: false,
    size: sizeMs,
    slide: slideMs,
    assign: (timestamp) => {
      const windows: TimeWindow[] = [];
      for (let start = windowStart(timestamp, slideMs); start > timestamp - sizeMs; start -= slideMs) {
        windows.push({ start, end: start + sizeMs });
      }
      return windows;
    },
  };
}

/** Each record opens [ts, ts + gap); windows of one key that intersect merge into one session. */
export function session(gap: DurationLike): WindowAssigner & { readonly gap: number } {
  const gapMs = positive('gap', gap);
  return {
    kind: 'session',
    merging: true,
    gap: gapMs,
    assign: (timestamp) => [{ start: timestamp, end: timestamp + gapMs }],
  };
}
