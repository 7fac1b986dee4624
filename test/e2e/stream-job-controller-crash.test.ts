// The controller SIGKILLed in the middle of a savepoint upgrade: a new controller process finishes the upgrade it finds in status instead of starting another, and no result is lost or repeated.
import { eventually } from '../env/src/eventually.js';
import { spawnController, type ControllerProcess } from './controller/process.js';
import { allResults, createJob, described, fraudJob, jobPods, jobTest, patchSpec, readJob, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-crash', { inProcessController: false });
const running: ControllerProcess[] = [];

// No controller process may outlive the test file.
afterAll(() => {
  for (const controller of running) if (controller.child.exitCode === null) controller.child.kill('SIGKILL');
});

function start(): ControllerProcess {
  const controller = spawnController(setup.world.namespace);
  running.push(controller);
  return controller;
}

describe('a controller killed in the middle of an upgrade', () => {
  it('is replaced by one that finishes the upgrade from the status it finds, with one savepoint', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    const first = start();
    await feed.produce(300);
    await createJob(namespace, fraudJob(name, topics, world));
    await waitForPhase(namespace, name, 'Running', 1);
    feed.startSteady();

    const target = await patchSpec(namespace, name, { parallelism: 3 });
    // The moment the upgrade's intent is in status, the controller dies.
    const upgrade = await eventually('the upgrade begun', async () => (await readJob(namespace, name)).status?.upgrade, 60_000, 10);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(upgrade.reason).toBe('Rescale');
    expect(upgrade.savepointId).toMatch(/^rescale-g2-/);

    const second = start();
    const job = await waitForPhase(namespace, name, 'Running', target, 180_000);
    expect(second.child.exitCode).toBeNull();
    // Resumed, not repeated: one savepoint, under the id written before the kill.
    expect(job.status?.savepoints?.map((savepoint) => savepoint.trigger)).toEqual(['rescale']);
    expect(job.status?.lastSavepoint?.location).toContain(upgrade.savepointId!);
    expect((await jobPods(namespace, name)).length).toBe(3);

    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, topics.output);
    expect(described(results)).toEqual(feed.expected());
  }, 400_000);
});
