// Strict savepoint upgrades: with S3 down the savepoint fails, the old spec keeps running and says why; once S3 is back the upgrade goes through, and no result is lost or repeated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../env/src/eventually.js';
import { envPaths } from '../env/src/proc.js';
import { startPrivateS3, type PrivateS3 } from '../env/src/s3.js';
import {
  allResults,
  condition,
  core,
  createJob,
  described,
  fraudJob,
  jobPods,
  jobTest,
  patchSpec,
  readJob,
  readResults,
  waitForPhase,
} from './stream-job/harness.js';

let s3: PrivateS3;
const s3Dir = mkdtempSync(join(tmpdir(), 'sj-private-s3-'));
const setup = jobTest('sj-spfail', {
  s3: {
    start: async () => {
      s3 = await startPrivateS3(envPaths(), s3Dir);
      return s3.endpoint;
    },
    stop: async () => {
      await s3.stop();
      rmSync(s3Dir, { recursive: true, force: true });
    },
  },
});

describe('a savepoint upgrade while S3 is down', () => {
  it('keeps the old spec running with a SavepointFailed condition and Event, then upgrades once S3 is back', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(200);
    await createJob(namespace, fraudJob(name, topics, world, s3.endpoint));
    await waitForPhase(namespace, name, 'Running', 1);

    const podsBefore = (await jobPods(namespace, name)).map((pod) => pod.metadata?.uid).sort();
    await s3.stop();
    const target = await patchSpec(namespace, name, { sinks: [{ name: 'features-topic', kafka: { topic: topics.output, key: 'customer-{customer_id}' } }] });
    const failed = await eventually(
      'the SavepointFailed condition',
      async () => {
        const job = await readJob(namespace, name);
        return condition(job, 'Savepoint')?.reason === 'SavepointFailed' && job.status?.phase === 'Running' ? job : undefined;
      },
      90_000,
      250,
    );
    expect(failed.status?.phase).toBe('Running');
    expect(failed.status?.deployedGeneration).toBe(1);
    expect(condition(failed, 'Upgrade')).toMatchObject({ status: 'False', reason: 'SavepointFailed' });
    expect(condition(failed, 'Upgrade')?.message).toMatch(/keeps running generation 1/);
    expect(condition(failed, 'Savepoint')?.message).toMatch(/cannot be reached/);
    // The pods refused the stop before they stopped processing: the same pods run on.
    expect((await jobPods(namespace, name)).map((pod) => pod.metadata?.uid).sort()).toEqual(podsBefore);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    expect(events.items.some((event) => event.reason === 'SavepointFailed' && event.type === 'Warning')).toBe(true);

    // The old spec still processes: new input gives new results, with the old key.
    const before = (await readResults(topics.output)).length;
    await feed.produce(200);
    await eventually('the old spec processing on', async () => ((await readResults(topics.output)).length > before ? true : undefined), 60_000, 500);

    await s3.start();
    const upgraded = await waitForPhase(namespace, name, 'Running', target, 180_000);
    expect(upgraded.status?.lastSavepoint).toMatchObject({ trigger: 'upgrade', generation: 1 });
    expect(condition(upgraded, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });

    await feed.produce(200);
    await feed.flush();
    const results = await allResults(feed, topics.output);
    expect(described(results)).toEqual(feed.expected());
  }, 400_000);
});
