// A repartitioned StreamJob on pods (its source not declared keyed by its keyBy) takes a savepoint while it runs, on request: every pod pauses at the same marks, the job goes on, and the read_committed output holds every window exactly once.
import { savepoint, type CommandIo } from '../../cli/src/index.js';
import { eventually } from '../env/src/eventually.js';
import { allResults, condition, createJob, described, endpoints, fraudJob, jobTest, readJob, readResults, waitForPhase } from './stream-job/harness.js';

const setup = jobTest('sj-repart');

describe('a repartitioned StreamJob', () => {
  it('takes a savepoint on request while it runs on two pods, and loses or repeats no result', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(300);
    const job = fraudJob(name, topics, world);
    // The topic is not declared keyed by customer_id: the job repartitions through <app>-keyBy-0-repartition.
    delete job.spec.sources[0]!.kafka!.keyedBy;
    await createJob(namespace, job);
    await waitForPhase(namespace, name, 'Running', 1);
    await eventually('the first results, read from Kafka', async () => ((await readResults(topics.output)).length > 0 ? true : undefined), 90_000, 500);
    feed.startSteady();

    let stderr = '';
    const io: CommandIo = { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } };
    const cluster = { kubeconfig: endpoints.kube.kubeconfig, namespace, job: name, output: 'table' as const };
    expect({ code: await savepoint({ ...cluster, wait: true, timeout: '3m' }, io), stderr }).toMatchObject({ code: 0 });
    const taken = await readJob(namespace, name);
    expect(taken.status?.lastSavepoint).toMatchObject({ trigger: 'manual', parallelism: 2 });
    expect(condition(taken, 'Savepoint')).toMatchObject({ status: 'True', reason: 'SavepointTaken' });
    expect(taken.status?.phase).toBe('Running');

    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, topics.output, 180_000);
    expect(described(results)).toEqual(feed.expected());
  }, 400_000);
});
