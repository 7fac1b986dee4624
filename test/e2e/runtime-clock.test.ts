// The runtime on the real Kafka with an injected clock: its commit interval follows that clock, not the wall clock, so
// a test (or a replay) decides when a transaction commits.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommitReport } from '../../runtime-image/src/kafka/exactly-once.js';
import { readConfig } from '../../runtime-image/src/process/config.js';
import { Runtime } from '../../runtime-image/src/process/runtime.js';
import { ManualClock } from '../../runtime-image/src/time/manual-clock.js';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { fraudPodEnv, produceTransactions, removeScratchDirs, uniqueName } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

afterAll(removeScratchDirs);

it('commits when its clock passes the commit interval: records read while the clock stands still stay uncommitted', async () => {
  const input = uniqueName('txn');
  const name = uniqueName('fraud-clock');
  await produceTransactions(brokers, input, { count: 200, partitions: 2, customers: 7 });
  const config = readConfig(fraudPodEnv(brokers, { name, input }, { SLUICE_CONTROL_TOKEN: 'test-token-of-this-run' }));
  const clock = new ManualClock(Date.parse('2025-12-05T01:00:00Z'));
  const commits: CommitReport[] = [];
  const runtime = await Runtime.open(config, { onCommit: (report) => commits.push(report) }, clock);
  try {
    await runtime.start();
    await eventually('all 200 records read', () => Promise.resolve(runtime.status().recordsIn === 200 ? true : undefined), 60_000);
    const before = commits.length;
    // Ten of the job's 100 ms commit intervals of wall time: on the system clock, several transactions would commit.
    await sleep(1000);
    expect(commits.slice(before)).toEqual([]);
    expect(runtime.status().partitions.every((partition) => partition.offset === 100)).toBe(true);

    clock.advance(100);
    const committed = await eventually('a transaction once the clock passed the interval', () =>
      Promise.resolve(commits.slice(before).find((report) => report.changelogRecords > 0)),
    );
    // The fraud job's state of 7 customers in 2 partitions: one changelog record per customer and window.
    expect(committed.changelogRecords).toBeGreaterThan(0);
  } finally {
    await runtime.close();
  }
});
