// The buffer of a sink outside Kafka: the latest write per key, sent per commit with retries, kept when the send fails.
import { ManualClock } from '../time/manual-clock.js';
import { WriteBuffer } from './write-buffer.js';

const refused = new Error('connection refused');

function failing(times: number, sent: (readonly (readonly [string, number])[])[]) {
  let left = times;
  return (entries: readonly (readonly [string, number])[]): Promise<void> => {
    sent.push(entries);
    return left-- > 0 ? Promise.reject(refused) : Promise.resolve();
  };
}

test('sends the latest write of each key once, keys in the order of their latest writes', async () => {
  const buffer = new WriteBuffer<number>();
  buffer.put('a', 1);
  buffer.put('b', 2);
  buffer.put('a', 3);
  const sent: (readonly (readonly [string, number])[])[] = [];
  await buffer.commit(failing(0, sent), { attempts: 3, clock: new ManualClock(), failure: (error) => error as Error });
  expect(sent).toEqual([
    [
      ['b', 2],
      ['a', 3],
    ],
  ]);
  expect(buffer.size).toBe(0);
});

test('tries again with backoff, and after the last try keeps the writes for the next commit, newer writes winning', async () => {
  const buffer = new WriteBuffer<number>();
  buffer.put('a', 1);
  buffer.put('b', 2);
  const sent: (readonly (readonly [string, number])[])[] = [];
  const send = failing(3, sent);
  const slept: number[] = [];
  const clock = new ManualClock();
  const sleep = clock.sleep.bind(clock);
  clock.sleep = (ms) => (slept.push(ms), sleep(ms));
  const failure = (error: unknown, attempts: number, retriable: boolean) => new Error(`${String(error)} after ${attempts} (${retriable})`);
  const commit = buffer.commit(send, { attempts: 3, clock, failure });
  buffer.put('b', 20);
  await expect(commit).rejects.toThrow('Error: connection refused after 3 (true)');
  expect(sent).toHaveLength(3);
  // 200 ms, then 400 ms, each with jitter between 0.5× and 1.5×.
  expect(slept).toHaveLength(2);
  expect(slept[0]).toBeGreaterThanOrEqual(100);
  expect(slept[0]).toBeLessThanOrEqual(300);
  expect(slept[1]).toBeGreaterThanOrEqual(200);
  expect(slept[1]).toBeLessThanOrEqual(600);
  // b's newer write made during the commit wins over the one put back.
  await buffer.commit(send, { attempts: 1, clock, failure });
  expect(sent.at(-1)).toEqual([
    ['b', 20],
    ['a', 1],
  ]);
});

test('fails at once on a failure that is not retriable', async () => {
  const buffer = new WriteBuffer<number>();
  buffer.put('a', 1);
  const sent: (readonly (readonly [string, number])[])[] = [];
  const commit = buffer.commit(failing(5, sent), {
    attempts: 5,
    clock: new ManualClock(),
    retriable: () => false,
    failure: (_, attempts, retriable) => new Error(`${attempts} ${retriable}`),
  });
  await expect(commit).rejects.toThrow('1 false');
  expect(sent).toHaveLength(1);
  expect(buffer.size).toBe(1);
});
