// The repartition topic a repartitioned job gets from the controller: named by the job's application id and keyBy step, as many partitions as the source, deleted with the job.
import type { StreamJob } from '@sluice/crds';
import { repartitionTopicResource } from './resources.js';

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
