// The StreamJob reconciler checks a spec against its source's schema subject before it rolls out: a typo is refused and the old pods keep running; a registry that does not answer holds nothing back.
import type { Condition, StreamJob, StreamJobSpec } from '@sluice/crds';
import type { SchemaCheckOptions } from '@sluice/runtime';
import { pino } from 'pino';
import type { EventRecorder } from '../machinery/events.js';
import { ManualClock } from '../machinery/manual-clock.js';
import { TerminalError } from '../machinery/reconciler.js';
import { TestingResources } from '../machinery/testing-resources.js';
import { podIpAddress } from './observer.js';
import { StreamJobReconciler } from './reconciler.js';
import { TestingCluster } from './testing-cluster.js';
import { TestingRuntimeControl } from './testing-runtime-control.js';

type SchemaRegistryClient = ReturnType<NonNullable<SchemaCheckOptions['registryAt']>>;

const key = { namespace: 'payments', name: 'fraud' };
const REGISTRY = 'http://registry.test:8081';

const TRANSACTION = JSON.stringify({
  type: 'record',
  name: 'Transaction',
  fields: [
    { name: 'customer_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
});

/** A registry in memory with subject transactions-value at version 3; `down` makes it answer nothing, as an outage does. */
class TestingSchemaRegistry implements SchemaRegistryClient {
  readonly url = REGISTRY;
  down = false;
  readonly asked: string[] = [];

  byId(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  version(subject: string): ReturnType<SchemaRegistryClient['version']> {
    this.asked.push(subject);
    if (this.down)
      return Promise.reject(
        Object.assign(new Error(`the schema registry at ${REGISTRY} did not answer GET /subjects/${subject}/versions/latest (ECONNREFUSED)`), {
          retriable: true,
        }),
      );
    return Promise.resolve({ id: 7, schemaType: 'AVRO', schema: TRANSACTION, subject, version: 3 });
  }
}

function avroSpec(filter = 'amount > 100.0'): StreamJobSpec {
  return {
    sources: [
      {
        name: 'transactions',
        kafka: { topic: 'transactions', keyedBy: 'customer_id' },
        format: 'avro',
        schema: { subject: 'transactions-value', registryUrl: REGISTRY },
        eventTime: { field: 'timestamp', format: 'epoch-millis', maxOutOfOrderness: '30s' },
      },
    ],
    pipeline: [
      { filter },
      { keyBy: { field: 'customer_id' } },
      { id: 'velocity', window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_sum', fn: 'sum', field: 'amount' }] },
    ],
    sinks: [{ name: 'features', kafka: { topic: 'features', key: '{customer_id}' } }],
    checkpoints: { location: 's3://savepoints/job', interval: '30s' },
    parallelism: 2,
    readinessTimeout: '10s',
  };
}

function setup(spec: StreamJobSpec) {
  const clock = new ManualClock();
  const jobs = new TestingResources<StreamJob>();
  const control = new TestingRuntimeControl('control-token');
  const cluster = new TestingCluster(jobs, control);
  const registry = new TestingSchemaRegistry();
  const events: string[] = [];
  const recorder: EventRecorder = { record: (_object, type, reason, message) => events.push(`${type} ${reason}: ${message}`) };
  const reconciler = new StreamJobReconciler({
    jobs,
    objects: cluster,
    control,
    podAddress: podIpAddress(8080),
    sourcePartitions: () => Promise.resolve(2),
    savepointStorage: { delete: () => Promise.resolve() },
    events: recorder,
    clock,
    log: pino({ level: 'silent' }),
    schemaRegistry: (url) => {
      expect(url).toBe(REGISTRY);
      return registry;
    },
  });
  jobs.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { ...key }, spec });
  const read = async (): Promise<StreamJob> => (await jobs.get(key))!;
  const step = async (): Promise<void> => {
    const result = await reconciler.reconcile(key);
    cluster.tick(clock.now());
    clock.advance(result.requeueAfterMs ?? 10_000);
  };
  const until = async (what: string, done: (job: StreamJob) => boolean): Promise<StreamJob> => {
    for (let count = 0; count < 100; count++) {
      await step();
      const job = await read();
      if (done(job)) return job;
    }
    throw new Error(`${what}: not after 100 reconciles; status ${JSON.stringify((await read()).status)}`);
  };
  return { jobs, cluster, registry, events, read, step, until, reconcile: () => reconciler.reconcile(key) };
}

function condition(job: StreamJob, type: string): Condition | undefined {
  return job.status?.conditions?.find((candidate) => candidate.type === type);
}

const running = (job: StreamJob) => job.status?.phase === 'Running' && condition(job, 'Ready')?.status === 'True';

describe('StreamJobReconciler and the source schema', () => {
  it("refuses a first spec with a typo'd field before deploying anything, naming the step, the subject's version and the field meant", async () => {
    const world = setup(avroSpec('amont > 100.0'));
    await expect(world.reconcile()).rejects.toBeInstanceOf(TerminalError);
    const job = await world.read();
    expect(job.status?.phase).toBe('Failed');
    expect(condition(job, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition(job, 'Ready')?.message).toBe(
      'generation 1 cannot run: spec.pipeline[0].filter: field amont is not in subject transactions-value version 3 (fields: customer_id, amount, timestamp); did you mean amount?',
    );
    expect(world.cluster.changes).toEqual([]);
  });

  it("keeps the old generation running when a new spec has a typo'd field, with the condition and a Warning Event", async () => {
    const world = setup(avroSpec());
    await world.until('running', running);
    expect(world.registry.asked).not.toHaveLength(0);
    const current = await world.read();
    world.jobs.apply({ ...current, spec: avroSpec('amont > 100.0') });
    const job = await world.until('refused', (candidate) => condition(candidate, 'Upgrade')?.reason === 'InvalidSpec');
    expect(job.status).toMatchObject({ phase: 'Running', deployedGeneration: 1 });
    expect(condition(job, 'Ready')).toMatchObject({ status: 'True' });
    const refusal =
      'generation 2 is refused and the job keeps running generation 1: spec.pipeline[0].filter: field amont is not in subject transactions-value version 3 (fields: customer_id, amount, timestamp); did you mean amount?';
    expect(condition(job, 'Upgrade')).toMatchObject({ status: 'False', message: refusal });
    expect(world.events).toContain(`Warning InvalidSpec: ${refusal}`);
    expect(world.cluster.changes).toHaveLength(1);
  });

  it('does not ask the registry again for the spec that runs', async () => {
    const world = setup(avroSpec());
    await world.until('running', running);
    const asked = world.registry.asked.length;
    expect(asked).toBeGreaterThan(0);
    for (let count = 0; count < 3; count++) await world.step();
    expect(world.registry.asked).toHaveLength(asked);
  });

  it('rolls out when the registry does not answer, with a Warning Event saying the check was skipped and why', async () => {
    const world = setup(avroSpec('amont > 100.0'));
    world.registry.down = true;
    await world.until('running', running);
    expect(world.cluster.changes).toHaveLength(1);
    expect(world.events).toContain(
      `Warning SchemaCheckSkipped: generation 1 rolls out without its fields checked against subject transactions-value: the schema registry at ${REGISTRY} did not answer GET /subjects/transactions-value/versions/latest (ECONNREFUSED)`,
    );
  });
});
