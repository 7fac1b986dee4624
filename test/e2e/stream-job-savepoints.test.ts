// Savepoints over a job's life: periodic ones with retention (dropped ones deleted from S3), a restart by restartNonce, and a new job started from the savepoint of a deleted one (initialSavepoint) — exactly once throughout.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { eventually } from '../env/src/eventually.js';
import { s3Client } from '../env/src/s3.js';
import { allResults, createJob, deleteJob, described, endpoints, fraudJob, jobPods, jobTest, patchSpec, readJob, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-savepoints');
const s3 = s3Client(endpoints.s3);
afterAll(() => s3.destroy());

/** How many objects S3 holds under a savepoint's location. */
async function objectsAt(location: string): Promise<number> {
  const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(location)!;
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  return listed.KeyCount ?? 0;
}

describe('savepoints over a job’s life', () => {
  it('takes periodic savepoints, keeps what retention says and deletes the rest; restarts by nonce; starts a new job from a savepoint', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(200);
    const job = fraudJob(name, topics, world);
    job.spec.savepoints = { interval: '3s', retention: { count: 2 } };
    await createJob(namespace, job);
    await waitForPhase(namespace, name, 'Running', 1);
    feed.startSteady(2, 100);

    // Periodic savepoints: the first one is dropped by retention once two newer ones exist, and deleted from S3.
    const first = await eventually('a periodic savepoint', async () => (await readJob(namespace, name)).status?.lastSavepoint, 60_000, 250);
    expect(first.trigger).toBe('periodic');
    expect(await objectsAt(first.location)).toBeGreaterThan(0);
    const later = await eventually(
      'retention dropping the first savepoint',
      async () => {
        const current = await readJob(namespace, name);
        const kept = current.status?.savepoints ?? [];
        return kept.length === 2 && !kept.some((savepoint) => savepoint.location === first.location) ? current : undefined;
      },
      60_000,
      250,
    );
    expect(later.status?.savepoints?.every((savepoint) => savepoint.trigger === 'periodic')).toBe(true);
    await eventually('the dropped savepoint deleted from S3', async () => ((await objectsAt(first.location)) === 0 ? true : undefined), 30_000, 250);

    // restartNonce: the pods are replaced through the upgrade path, nothing else changes.
    const before = (await jobPods(namespace, name)).map((pod) => pod.metadata?.uid);
    const restarted = await patchSpec(namespace, name, { restartNonce: 'once' });
    const afterRestart = await waitForPhase(namespace, name, 'Running', restarted);
    expect(afterRestart.status?.conditions?.find((condition) => condition.type === 'Upgrade')?.message).toMatch(/Restart/);
    const after = (await jobPods(namespace, name)).map((pod) => pod.metadata?.uid);
    expect(after.some((uid) => before.includes(uid))).toBe(false);

    // Suspend (a savepoint, nothing processed after it), delete the job, and start a new one of the same name from that savepoint.
    const suspended = await patchSpec(namespace, name, { suspend: true, savepoints: { retention: { count: 5 } } });
    const atSuspend = await waitForPhase(namespace, name, 'Suspended', suspended);
    const savepoint = atSuspend.status!.lastSavepoint!;
    expect(savepoint.trigger).toBe('suspend');
    await deleteJob(namespace, name);
    await eventually(
      'the job and its pods gone',
      async () =>
        (await jobPods(namespace, name)).length === 0 &&
        (await readJob(namespace, name).then(
          () => false,
          () => true,
        ))
          ? true
          : undefined,
      60_000,
      250,
    );
    expect(await objectsAt(savepoint.location)).toBeGreaterThan(0);

    const again = fraudJob(name, topics, world);
    again.spec.initialSavepoint = savepoint.location;
    await createJob(namespace, again);
    await waitForPhase(namespace, name, 'Running', 1);

    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, topics.output);
    expect(described(results)).toEqual(feed.expected());
  }, 400_000);
});
