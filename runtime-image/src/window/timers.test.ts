import { type Timer, TimerQueue } from './timers.js';

const timer = (time: number, kind: Timer['kind'], stateKey: string): Timer => ({ time, kind, stateKey });

function drain(queue: TimerQueue, watermark: number): Timer[] {
  const due: Timer[] = [];
  for (let next = queue.pollDue(watermark); next !== undefined; next = queue.pollDue(watermark)) due.push(next);
  return due;
}

describe('TimerQueue', () => {
  // A state key names one window, so each of its two timers has one time.
  it('gives due timers by time, fire before cleanup, then by state key, whatever the order they came in', () => {
    const queue = new TimerQueue();
    const timers = [
      timer(19, 'fire', 'b|10|20'),
      timer(9, 'cleanup', 'a|0|10'),
      timer(9, 'fire', 'b|0|10'),
      timer(29, 'fire', 'a|20|30'),
      timer(9, 'fire', 'a|0|10'),
      timer(19, 'cleanup', 'c|10|20'),
    ];
    for (const each of timers) queue.add(each);
    expect(drain(queue, 19)).toEqual([
      timer(9, 'fire', 'a|0|10'),
      timer(9, 'fire', 'b|0|10'),
      timer(9, 'cleanup', 'a|0|10'),
      timer(19, 'fire', 'b|10|20'),
      timer(19, 'cleanup', 'c|10|20'),
    ]);
    expect(drain(queue, 28)).toEqual([]);
    expect(drain(queue, Number.POSITIVE_INFINITY)).toEqual([timer(29, 'fire', 'a|20|30')]);
  });

  it("queues a window's timer once, and again after it came due", () => {
    const queue = new TimerQueue();
    queue.add(timer(9, 'fire', 'a'));
    queue.add(timer(9, 'fire', 'a'));
    expect(drain(queue, 9)).toEqual([timer(9, 'fire', 'a')]);
    queue.add(timer(9, 'fire', 'a'));
    expect(drain(queue, 9)).toEqual([timer(9, 'fire', 'a')]);
  });

  it('forgets everything on clear', () => {
    const queue = new TimerQueue();
    queue.add(timer(1, 'fire', 'a'));
    queue.clear();
    expect(drain(queue, 10)).toEqual([]);
  });
});
