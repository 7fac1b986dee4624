// What the controller refuses and undoes: a spec the job compiler rejects (named by field, the old spec keeps running), and a new spec not ready within readinessTimeout (rolled back from the same savepoint).
import { eventually } from '../env/src/eventually.js';
import { allResults, condition, createJob, described, fraudJob, jobPods, jobTest, patchSpec, readJob, uniqueName, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-rollback');

describe('specs the controller refuses or rolls back', () => {
  it('refuses a job that does not compile before deploying anything, naming the field', async () => {
    const { world, name } = setup;
    const { namespace } = world;
    const broken = fraudJob(uniqueName('broken'), { input: `${name}-other`, output: `${name}-other-out` }, world);
    broken.spec.pipeline = [{ filter: 'amount >' }, ...(broken.spec.pipeline ?? [])];
    await createJob(namespace, broken);
    const job = await eventually(
      'the broken job Failed',
      async () => {
        const current = await readJob(namespace, broken.metadata.name!);
        return current.status?.phase === 'Failed' ? current : undefined;
      },
      30_000,
      250,
    );
    expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition(job, 'Ready')?.message).toMatch(/spec\.pipeline\[0\]\.filter/);
    expect(await jobPods(namespace, broken.metadata.name!)).toEqual([]);
  }, 60_000);

  it('keeps the running spec when a new one does not compile, and rolls back a new spec that is not ready in time', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(200);
    await createJob(namespace, fraudJob(name, topics, world));
    await waitForPhase(namespace, name, 'Running', 1);

    // A spec the compiler refuses: a condition names the field; nothing is stopped.
    const pipeline = fraudJob(name, topics, world).spec.pipeline!;
    const refused = await patchSpec(namespace, name, { pipeline: [{ filter: 'amount >' }, ...pipeline] });
    let job = await eventually(
      'the refused spec',
      async () => {
        const current = await readJob(namespace, name);
        return condition(current, 'Upgrade')?.reason === 'InvalidSpec' && current.status?.observedGeneration === refused ? current : undefined;
      },
      30_000,
      250,
    );
    expect(condition(job, 'Upgrade')?.message).toMatch(/spec\.pipeline\[0\]\.filter/);
    expect(job.status?.phase).toBe('Running');
    expect(job.status?.deployedGeneration).toBe(1);

    // Taking the refused spec back (the running pipeline applied again) clears the refusal; nothing is redeployed.
    const reverted = await patchSpec(namespace, name, { pipeline });
    job = await eventually(
      'the refusal cleared',
      async () => {
        const current = await readJob(namespace, name);
        return condition(current, 'Upgrade')?.status === 'True' ? current : undefined;
      },
      30_000,
      250,
    );
    expect(job.status?.deployedGeneration).toBe(1);
    expect(job.status?.savepoints ?? []).toEqual([]);

    // A spec whose pods never become ready (an image no node has): rolled back after readinessTimeout from the same savepoint.
    await feed.produce(200);
    const unready = await patchSpec(namespace, name, { pipeline, image: 'ghcr.io/sluice/no-such-runtime:1', readinessTimeout: '10s' });
    job = await eventually(
      'the rollback',
      async () => {
        const current = await readJob(namespace, name);
        return condition(current, 'Upgrade')?.reason === 'RolledBack' && current.status?.upgrade === undefined ? current : undefined;
      },
      240_000,
      250,
    );
    expect(job.status?.phase).toBe('Running');
    expect(job.status?.rolledBackGeneration).toBe(unready);
    // Back on the last stable spec: the reverted generation, the same pipeline as generation 1.
    expect(job.status?.deployedGeneration).toBe(reverted);
    expect(condition(job, 'Upgrade')?.message).toMatch(new RegExp(`generation ${unready} was not ready in time`));
    expect(job.status?.lastSavepoint?.trigger).toBe('upgrade');
    const pods = await jobPods(namespace, name);
    expect(pods.map((pod) => pod.spec?.containers[0]?.image)).toEqual(['ghcr.io/sluice/sluice-runtime:0.1.0', 'ghcr.io/sluice/sluice-runtime:0.1.0']);

    // A rolled-back generation is not tried again: the job stays on the stable spec.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    job = await readJob(namespace, name);
    expect(job.status?.upgrade).toBeUndefined();
    expect(job.status?.deployedGeneration).toBe(reverted);

    // A rescale while the rolled-back spec is still applied rescales the stable spec; the bad one is not tried again.
    // (readinessTimeout back to 5m: three pods restoring a savepoint on a loaded machine take more than 10 s.)
    const rescaled = await patchSpec(namespace, name, { parallelism: 3, readinessTimeout: '5m' });
    job = await waitForPhase(namespace, name, 'Running', rescaled);
    expect(job.status?.rolledBackSpecHash).toBeDefined();
    const rescaledPods = await jobPods(namespace, name);
    expect(rescaledPods.map((pod) => pod.spec?.containers[0]?.image)).toEqual(Array.from({ length: 3 }, () => 'ghcr.io/sluice/sluice-runtime:0.1.0'));

    // The rolled-back job lost and repeated nothing.
    await feed.produce(200);
    await feed.flush();
    const results = await allResults(feed, topics.output);
    expect(described(results)).toEqual(feed.expected());
  }, 700_000);
});
