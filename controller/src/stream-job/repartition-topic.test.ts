// The repartition topic a repartitioned job gets from the controller: named by the job's application id and keyBy step, as many partitions as the source, deleted with the job.
import type { StreamJob, StreamJobSpec } from '@sluice/crds';
import { pino } from 'pino';
import { ManualClock } from '../machinery/manual-clock.js';
import { TestingResources } from '../machinery/testing-resources.js';
import { podIpAddress } from './observer.js';
import { StreamJobReconciler } from './reconciler.js';
import { repartitionTopicResource } from './resources.js';
import { TestingCluster } from './testing-cluster.js';
import { TestingRuntimeControl } from './testing-runtime-control.js';

const job = {
  apiVersion: 'sluice.dev/v1alpha1',
  kind: 'StreamJob',
  metadata: { name: 'velocity', namespace: 'payments', uid: 'u-7', generation: 1 },
  spec: { sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }], sinks: [{ name: 'out', stdout: {} }] },
} as unknown as StreamJob;

describe('the repartition Topic of a job whose keyBy is not its topic’s key', () => {
  it('is <application id>-<keyBy step id>-repartition, with the source’s partitions, owned by the job and deleted with it', () => {
    const topic = repartitionTopicResource(job, 'keyBy-1', 6);
    expect(topic).toEqual({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'Topic',
      metadata: {
        name: 'payments.velocity-keyby-1-repartition',
        namespace: 'payments',
        labels: expect.any(Object) as unknown,
        ownerReferences: [{ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', name: 'velocity', uid: 'u-7', controller: true, blockOwnerDeletion: true }],
      },
      spec: { topicName: 'payments.velocity-keyBy-1-repartition', partitions: 6, deletionPolicy: 'delete' },
    });
  });
});

describe('the controller and a job whose topic declares no key', () => {
  it('creates the repartition Topic beside the changelog, as many partitions as the source, and deploys the job', async () => {
    const clock = new ManualClock();
    const jobs = new TestingResources<StreamJob>();
    const control = new TestingRuntimeControl('control-token');
    const cluster = new TestingCluster(jobs, control);
    const reconciler = new StreamJobReconciler({
      jobs,
      objects: cluster,
      control,
      podAddress: podIpAddress(8080),
      sourcePartitions: (topic) => Promise.resolve(topic === 'transactions' ? 3 : undefined),
      savepointStorage: { delete: () => Promise.resolve() },
      events: { record: () => undefined },
      clock,
      log: pino({ level: 'silent' }),
    });
    const spec: StreamJobSpec = {
      sources: [
        {
          name: 'transactions',
          kafka: { topic: 'transactions' },
          format: 'json',
          eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
        },
      ],
      pipeline: [
        { keyBy: { field: 'customer_id' } },
        { id: 'velocity', window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] },
      ],
      sinks: [{ name: 'features', kafka: { topic: 'features', key: '{customer_id}' } }],
      parallelism: 2,
    };
    const key = { namespace: 'payments', name: 'velocity' };
    jobs.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { ...key }, spec });
    for (let count = 0; count < 20 && (await jobs.get(key))?.status?.phase !== 'Running'; count++) {
      const result = await reconciler.reconcile(key);
      cluster.tick(clock.now());
      clock.advance(result.requeueAfterMs ?? 10_000);
    }
    expect((await jobs.get(key))?.status?.phase).toBe('Running');
    expect([...cluster.topics.values()].map((topic) => [topic.spec.topicName, topic.spec.partitions]).sort()).toEqual([
      ['payments.velocity-keyBy-0-repartition', 3],
      ['payments.velocity-velocity-changelog', 3],
    ]);
  });
});
