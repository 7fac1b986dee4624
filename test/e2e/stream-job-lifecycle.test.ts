// A StreamJob's whole life on the real API server, Kafka and S3, its pods on the process kubelet: deploy, upgrade through a savepoint, rescale, savepoint on request, suspend, resume — and the read_committed output holds every window exactly once.
import { AppsV1Api } from '@kubernetes/client-node';
import { resume, savepoint, scale, status, suspend, type CommandIo } from '../../cli/src/index.js';
import { eventually } from '../env/src/eventually.js';
import {
  allResults,
  condition,
  core,
  createJob,
  described,
  endpoints,
  fraudJob,
  jobPods,
  jobTest,
  kubeconfig,
  patchSpec,
  readJob,
  readResults,
  readTopic,
  waitForPhase,
} from './stream-job/harness.js';

const apps = kubeconfig.makeApiClient(AppsV1Api);
const setup = jobTest('sj-life');

/** Runs a streamctl command in-process, as the command line would, and keeps what it printed. */
async function streamctl(command: (io: CommandIo) => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await command({ stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  if (code !== 0) process.stderr.write(`streamctl failed (${code}): ${stderr}\n`);
  return { code, stdout, stderr };
}

describe('a StreamJob from kubectl apply to suspend and resume', () => {
  it('runs the fraud job on pods and moves it between specs through savepoints without losing or repeating a result', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(300);
    await createJob(namespace, fraudJob(name, topics, world));

    // Deployed: the StatefulSet, its Service, Secret, ConfigMap and the changelog Topic, owned by the job; two pods Running.
    let job = await waitForPhase(namespace, name, 'Running', 1);
    expect(job.status?.parallelism).toBe(2);
    expect(job.status?.lastStableGeneration).toBe(1);
    expect(condition(job, 'Ready')).toMatchObject({ status: 'True', reason: 'Running' });
    const statefulSet = await apps.readNamespacedStatefulSet({ namespace, name });
    expect(statefulSet.spec?.podManagementPolicy).toBe('Parallel');
    expect(statefulSet.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'StreamJob', name, controller: true });
    expect((await core.readNamespacedService({ namespace, name })).spec?.clusterIP).toBe('None');
    expect((await core.readNamespacedSecret({ namespace, name: `${name}-control` })).data?.token).toBeDefined();
    expect((await jobPods(namespace, name)).map((pod) => pod.metadata?.name).sort()).toEqual([`${name}-0`, `${name}-1`]);
    // Named in Kafka by namespace.name, so a same-named job in another namespace keeps its own changelog, group and transactions.
    const changelog = await readTopic(namespace, `${namespace}.${name}-velocity-changelog`);
    expect(changelog.spec).toMatchObject({ topicName: `${namespace}.${name}-velocity-changelog`, partitions: 4, config: { 'cleanup.policy': 'compact' } });
    expect(changelog.status?.conditions?.find((candidate) => candidate.type === 'Ready')?.status).toBe('True');
    await eventually('the first results, read from Kafka', async () => ((await readResults(topics.output)).length > 0 ? true : undefined), 60_000, 500);

    // Records keep arriving through everything that follows.
    feed.startSteady();

    // New logic: one more aggregate. The old pods stop with a savepoint; the new spec starts from it.
    const [keyBy, window] = fraudJob(name, topics, world).spec.pipeline!;
    const upgraded = await patchSpec(namespace, name, {
      pipeline: [keyBy, { ...window, aggregate: [...window!.aggregate!, { name: 'txn_max', fn: 'max', field: 'amount' }] }],
    });
    job = await waitForPhase(namespace, name, 'Running', upgraded);
    expect(job.status?.lastSavepoint).toMatchObject({ trigger: 'upgrade', generation: 1, parallelism: 2 });
    expect(job.status?.lastSavepoint?.location).toMatch(new RegExp(`^s3://${world.bucket}/`));
    expect(condition(job, 'Upgrade')).toMatchObject({ status: 'True', reason: 'Upgraded' });
    await eventually(
      'results of the new spec',
      async () => ((await readResults(topics.output)).some((result) => result.txn_max !== undefined) ? true : undefined),
      60_000,
      500,
    );

    // Rescale 2 → 3 with streamctl, through the savepoint path.
    const cluster = { kubeconfig: endpoints.kube.kubeconfig, namespace, job: name, output: 'table' as const };
    const waiting = { wait: true, timeout: '3m' };
    expect(await streamctl((io) => scale({ ...cluster, ...waiting, parallelism: '3' }, io))).toMatchObject({ code: 0 });
    job = await readJob(namespace, name);
    expect(job.status?.lastSavepoint).toMatchObject({ trigger: 'rescale', parallelism: 2 });
    expect(job.status?.parallelism).toBe(3);
    expect((await jobPods(namespace, name)).length).toBe(3);

    // streamctl savepoint --wait: a new trigger nonce, answered once, its location printed.
    const manual = await streamctl((io) => savepoint({ ...cluster, ...waiting }, io));
    expect(manual.code).toBe(0);
    job = await readJob(namespace, name);
    expect(job.status?.lastSavepoint).toMatchObject({ trigger: 'manual', triggerNonce: job.spec.savepointTrigger, parallelism: 3 });
    expect(manual.stdout).toContain(job.status!.lastSavepoint!.location);
    expect(job.status?.savepoints?.map((taken) => taken.trigger)).toEqual(['manual', 'rescale', 'upgrade']);

    // Suspend takes a savepoint and scales to zero; resume starts from it.
    expect(await streamctl((io) => suspend({ ...cluster, ...waiting }, io))).toMatchObject({ code: 0 });
    job = await readJob(namespace, name);
    expect(job.status?.phase).toBe('Suspended');
    expect(job.status?.lastSavepoint?.trigger).toBe('suspend');
    await eventually('no pods while suspended', async () => ((await jobPods(namespace, name)).length === 0 ? true : undefined), 60_000, 250);
    expect(await streamctl((io) => resume({ ...cluster, ...waiting }, io))).toMatchObject({ code: 0 });
    job = await waitForPhase(namespace, name, 'Running', job.metadata.generation! + 1);
    expect(job.status?.parallelism).toBe(3);
    const shown = await streamctl((io) => status(cluster, io));
    expect(shown.stdout).toMatch(/Running/);

    // Every window of every customer once, with the count and sum of exactly its transactions.
    await feed.stopSteady();
    await feed.flush();
    const results = await allResults(feed, topics.output);
    expect(described(results)).toEqual(feed.expected());

    // The controller counted what it did, for alerts on failed savepoints and rolled-back upgrades.
    const metrics = await setup.controller!.metrics.registry.metrics();
    const counted = (metric: string, labels: string): boolean =>
      metrics.split('\n').some((line) => line.startsWith(`${metric}{`) && line.includes(labels) && line.endsWith(' 1'));
    for (const trigger of ['upgrade', 'rescale', 'manual', 'suspend'])
      expect(counted('sluice_streamjob_savepoints_total', `trigger="${trigger}",result="taken"`)).toBe(true);
    for (const reason of ['SpecChanged', 'Rescale', 'Suspend', 'Resume'])
      expect(counted('sluice_streamjob_upgrades_total', `reason="${reason}",result="succeeded"`)).toBe(true);

    // Upgrade downtime: the last result of the old spec to the first of the new one, as Kafka stamped them.
    const oldSpec = results.filter((result) => result.txn_max === undefined).map((result) => result.appendedAt);
    const newSpec = results.filter((result) => result.txn_max !== undefined).map((result) => result.appendedAt);
    process.stdout.write(
      `upgrade downtime (last old-spec result → first new-spec result): ${Math.min(...newSpec) - Math.max(...oldSpec)} ms over ${results.length} results\n`,
    );
  }, 600_000);
});
