// Event-time timers of the window operator, in memory: a heap in a total order, so restores replay identically.

/** `fire` emits a window's result at end − 1; `cleanup` drops its state at end − 1 + allowedLateness. */
export type TimerKind = 'fire' | 'cleanup';

export interface Timer {
  readonly time: number;
  readonly kind: TimerKind;
  readonly stateKey: string;
}

const KIND_ORDER: Record<TimerKind, number> = { fire: 0, cleanup: 1 };

/** By time; at the same time a window fires before it is cleaned up; then by state key, so ties never depend on arrival. */
function before(a: Timer, b: Timer): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] < KIND_ORDER[b.kind];
  return a.stateKey < b.stateKey;
}

const idOf = (timer: Timer) => `${timer.kind}|${timer.stateKey}`;

/**
 * A min-heap of timers. A window's timers are fixed by its state key, so a timer already queued is
 * not queued twice; timers of windows that are gone stay queued and are skipped when they come due.
 */
export class TimerQueue {
  readonly #heap: Timer[] = [];
  readonly #queued = new Set<string>();

  add(timer: Timer): void {
    const id = idOf(timer);
    if (this.#queued.has(id)) return;
    this.#queued.add(id);
    const heap = this.#heap;
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  /** Removes and returns the first timer due at `watermark` (time ≤ watermark), or undefined when none is. */
  pollDue(watermark: number): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined || top.time > watermark) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    this.#queued.delete(idOf(top));
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#queued.clear();
  }
}
