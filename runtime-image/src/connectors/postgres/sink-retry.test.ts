// The PostgreSQL sink's backoff between the tries of a commit, on a manual clock: no real waiting, the waits exact in range.
import { ManualClock } from '../../time/manual-clock.js';
import { PostgresSink } from './sink.js';

test('a commit to an unreachable server waits about 200 ms, then about 400 ms, between its three tries, and never shows the password', async () => {
  const clock = new ManualClock(0);
  const sink = new PostgresSink({ url: 'postgres://sluice:s3cret@127.0.0.1:1/sluice', table: 'velocity', keyColumns: ['customer_id'], clock });
  sink.write({ value: { customer_id: 'C1', txn_count: 1 }, timestamp: 0 });
  const failure = sink.commit();
  await expect(failure).rejects.toThrow(
    'postgres sink: upserting into velocity at 127.0.0.1:1/sluice failed 3 times (connect ECONNREFUSED 127.0.0.1:1); check that PostgreSQL at 127.0.0.1:1/sluice is up and reachable; the results are kept for the next commit',
  );
  await expect(failure).rejects.not.toThrow('s3cret');
  // Each wait is jittered between half and one and a half times its base: 100–300 ms, then 200–600 ms.
  expect(clock.now()).toBeGreaterThanOrEqual(300);
  expect(clock.now()).toBeLessThanOrEqual(900);
  // The rows were kept: closing tries them again, and fails the same way.
  await expect(sink.close()).rejects.toMatchObject({ code: 'SLUICE_E_POSTGRES_UNREACHABLE', retriable: true });
});
