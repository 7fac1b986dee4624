// The work queue's promises: one entry per key, never two workers on one key, delayed and rate-limited adds.
import { KeyBackoff } from './backoff.js';
import { ManualClock } from './manual-clock.js';
import { WorkQueue } from './work-queue.js';

const noJitter = () => new KeyBackoff({ baseMs: 100, maxMs: 1000, jitter: 0 });

describe('WorkQueue', () => {
  it('holds a key added several times once', async () => {
    const queue = new WorkQueue(new ManualClock());
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
  });

  it('does not hand a key to a second worker while the first holds it, and hands it again after done()', async () => {
    const queue = new WorkQueue(new ManualClock());
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    expect(queue.depth).toBe(0);
    queue.done(key!);
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe('ns/a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue(new ManualClock());
    const next = queue.get();
    queue.add('ns/a');
    await expect(next).resolves.toBe('ns/a');
  });

  it('adds a delayed key when its time comes, the earliest of two delays winning', () => {
    const clock = new ManualClock();
    const queue = new WorkQueue(clock);
    queue.addAfter('ns/a', 1000);
    queue.addAfter('ns/a', 300);
    clock.advance(299);
    expect(queue.depth).toBe(0);
    clock.advance(1);
    expect(queue.depth).toBe(1);
    clock.advance(1000);
    expect(queue.depth).toBe(1);
  });

  it('backs a failing key off exponentially, up to the maximum, and starts over after forget()', () => {
    const clock = new ManualClock();
    const queue = new WorkQueue(clock, noJitter());
    expect([1, 2, 3, 4, 5].map(() => queue.addRateLimited('ns/a'))).toEqual([100, 200, 400, 800, 1000]);
    expect(queue.failures('ns/a')).toBe(5);
    queue.forget('ns/a');
    expect(queue.addRateLimited('ns/a')).toBe(100);
    expect(queue.addRateLimited('ns/b')).toBe(100);
  });

  it('releases waiting workers with undefined on shutdown and accepts no more keys', async () => {
    const queue = new WorkQueue(new ManualClock());
    const next = queue.get();
    queue.shutDown();
    await expect(next).resolves.toBeUndefined();
    queue.add('ns/a');
    expect(queue.depth).toBe(0);
  });
});

describe('KeyBackoff', () => {
  it('adds at most the jitter fraction on top of the delay', () => {
    const backoff = new KeyBackoff({ baseMs: 100, maxMs: 10_000, jitter: 0.5, random: () => 1 });
    expect(backoff.next('k')).toBe(150);
    expect(backoff.next('k')).toBe(300);
  });
});
