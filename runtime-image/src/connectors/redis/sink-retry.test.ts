// The Redis sink's backoff between the tries of a commit, on a manual clock: no real waiting, the waits exact in range.
import { ManualClock } from '../../time/manual-clock.js';
import { RedisSink } from './sink.js';

test('a commit that keeps failing waits about 200 ms, then about 400 ms, between its three tries, on the clock it is given', async () => {
  const clock = new ManualClock(0);
  const sink = new RedisSink({ url: 'redis://127.0.0.1:1', key: 'fraud_features:{customer_id}', valueField: 'txn_count', clock });
  sink.write({ value: { customer_id: 'C1', txn_count: 1 }, timestamp: 0 });
  await expect(sink.commit()).rejects.toThrow('redis sink: writing to 127.0.0.1:1 failed 3 times (connect ECONNREFUSED 127.0.0.1:1)');
  // Each wait is jittered between half and one and a half times its base: 100–300 ms, then 200–600 ms.
  expect(clock.now()).toBeGreaterThanOrEqual(300);
  expect(clock.now()).toBeLessThanOrEqual(900);
  // Closing a client that never connected fails too, naming the address; nothing is left open.
  await expect(sink.close()).rejects.toThrow('127.0.0.1:1');
});
