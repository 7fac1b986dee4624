// The autoscaler on a real job: a backlog one pod cannot drain within catchUpTime makes it measure the pod, recommend more and rescale through a savepoint (spec.parallelism set through the scale subresource) — and no result is lost or repeated.
import { messageOf } from '@sluice/crds/errors';
import { eventually } from '../env/src/eventually.js';
import { allResults, condition, core, createJob, described, fraudJob, jobPods, jobTest, readJob, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-autoscale');

describe('the StreamJob autoscaler', () => {
  it('rescales a job that is behind to what drains its lag within catchUpTime, bounded by max', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    // A backlog first, so the one pod is behind from its first sample on.
    for (let sent = 0; sent < 800_000; sent += 40_000) await feed.produce(40_000);
    const job = fraudJob(name, topics, world, undefined, 1);
    job.spec.autoscaler = { mode: 'apply', min: 1, max: 2, catchUpTime: '1s', targetUtilization: 0.5, stabilizationWindow: '0s', scaleDownDelay: '1h' };
    await createJob(namespace, job);

    const scaled = await eventually(
      'the autoscaler to set parallelism 2',
      async () => {
        const current = await readJob(namespace, name);
        return current.spec.parallelism === 2 ? current : undefined;
      },
      120_000,
      250,
    ).catch(async (error: unknown) => {
      throw new Error(`${messageOf(error)}; the autoscaler's status: ${JSON.stringify((await readJob(namespace, name)).status?.autoscaler)}`);
    });
    expect(scaled.status?.autoscaler?.recommendedParallelism).toBe(2);
    expect(scaled.status?.autoscaler?.processingRate).toBeGreaterThan(0);
    expect(scaled.status?.autoscaler?.lastScaleTime).toBeDefined();
    expect(scaled.status?.autoscaler?.reason).toMatch(/2 pods \(\d+ wanted, bounded to 1\.\.2\)/);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    expect(events.items.some((event) => event.reason === 'Autoscaled' && event.message?.includes('parallelism 1 → 2'))).toBe(true);

    const running = await waitForPhase(namespace, name, 'Running', scaled.metadata.generation);
    expect(running.status?.lastSavepoint?.trigger).toBe('rescale');
    expect(condition(running, 'Ready')?.status).toBe('True');
    expect((await jobPods(namespace, name)).length).toBe(2);

    await feed.flush();
    const results = await allResults(feed, topics.output, 180_000);
    expect(described(results)).toEqual(feed.expected());
  }, 400_000);
});
