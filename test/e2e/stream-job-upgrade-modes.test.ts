// The upgrade modes besides savepoint: last-state (stop, restart from the last commit: no savepoint, nothing lost or repeated) and stateless (restart with empty state from the committed offsets).
import { eventually } from '../env/src/eventually.js';
import {
  allResults,
  createJob,
  described,
  fraudJob,
  jobPods,
  jobTest,
  patchSpec,
  readResults,
  TransactionFeed,
  uniqueName,
  waitForPhase,
} from './stream-job/harness.js';

const setup = jobTest('sj-modes');

describe('upgrade modes', () => {
  it('last-state: rescales 2 → 3 from the last commit, without a savepoint, and loses or repeats nothing', async () => {
    const { world } = setup;
    const { namespace } = world;
    const name = uniqueName('laststate');
    const topics = { input: `${name}-txn`, output: `${name}-features` };
    const feed = new TransactionFeed(topics.input, 4);
    await feed.open();
    try {
      await feed.produce(300);
      const job = fraudJob(name, topics, world);
      job.spec.upgradeMode = 'last-state';
      await createJob(namespace, job);
      await waitForPhase(namespace, name, 'Running', 1);
      feed.startSteady();
      const rescaled = await patchSpec(namespace, name, { parallelism: 3 });
      const upgraded = await waitForPhase(namespace, name, 'Running', rescaled);
      expect(upgraded.status?.savepoints ?? []).toEqual([]);
      expect(upgraded.status?.parallelism).toBe(3);
      await feed.stopSteady();
      await feed.flush();
      const results = await allResults(feed, topics.output);
      expect(described(results)).toEqual(feed.expected());
    } finally {
      await feed.close();
    }
  }, 300_000);

  it('stateless: the new spec starts with empty state from the committed offsets', async () => {
    const { world } = setup;
    const { namespace } = world;
    const name = uniqueName('stateless');
    const topics = { input: `${name}-txn`, output: `${name}-features` };
    const feed = new TransactionFeed(topics.input, 4);
    await feed.open();
    try {
      // Two transactions per customer in the first window, then the upgrade, then the window closes.
      await feed.produce(16);
      const job = fraudJob(name, topics, world);
      job.spec.upgradeMode = 'stateless';
      await createJob(namespace, job);
      await waitForPhase(namespace, name, 'Running', 1);
      const changed = await patchSpec(namespace, name, { delivery: { commitInterval: '300ms' } });
      const upgraded = await waitForPhase(namespace, name, 'Running', changed);
      expect(upgraded.status?.savepoints ?? []).toEqual([]);
      const env = (await jobPods(namespace, name))[0]?.spec?.containers[0]?.env ?? [];
      expect(env.find((variable) => variable.name === 'SLUICE_DISCARD_STATE')?.value).toBeDefined();
      await feed.produce(8);
      await feed.flush();
      // Only the transaction after the upgrade counts in the first window: the state of the first two was discarded.
      const first = await allWindowsOfFirst(topics.output);
      expect(first.map((result) => result.txn_count)).toEqual(Array.from({ length: 8 }, () => 1));
    } finally {
      await feed.close();
    }
  }, 300_000);
});

/** The results of the first window (00:00–00:05) of the 8 customers, once all 8 are in. */
function allWindowsOfFirst(output: string): Promise<{ customer_id: string; txn_count: number }[]> {
  return eventually(
    'the first window of every customer',
    async () => {
      const results = (await readResults(output)).filter((result) => result.window_start === '2026-01-05T00:00:00.000Z');
      return results.length >= 8 ? results.sort((a, b) => a.customer_id.localeCompare(b.customer_id)) : undefined;
    },
    120_000,
    500,
  );
}
