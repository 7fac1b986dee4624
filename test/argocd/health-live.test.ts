// The health checks on what the controller really writes: a Topic, a SchemaSubject and a StreamJob reconciled on the real API server, Kafka and S3, the job's pods on the process kubelet.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { create, kafkaAdmin, read } from '../e2e/controller/harness.js';
import { condition, createJob, fraudJob, jobTest, patchSpec, readJob, uniqueName } from '../e2e/stream-job/harness.js';
import { eventually } from '../env/src/eventually.js';
import { health, type Health } from './lua.js';

const setup = jobTest('argocd-health');
const testdataRoot = join(dirname(fileURLToPath(import.meta.url)), 'sluice.dev');

/**
 * With SLUICE_ARGOCD_RECORD=1, writes the object as seen to <Kind>/testdata/recorded-<name>.yaml: the fixtures the
 * offline health test runs (health_test.yaml) are refreshed from a live reconcile this way.
 */
function record(kind: string, name: string, what: string, object: unknown): void {
  if (process.env.SLUICE_ARGOCD_RECORD !== '1') return;
  const copy = structuredClone(object) as { metadata: Record<string, unknown> };
  for (const noise of ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'finalizers']) delete copy.metadata[noise];
  const header = `# Recorded by test/argocd/health-live.test.ts (SLUICE_ARGOCD_RECORD=1) from a live reconcile: ${what}.\n`;
  writeFileSync(join(testdataRoot, kind, 'testdata', `recorded-${name}.yaml`), `${header}${stringify(copy, { lineWidth: 0 })}`);
}

interface Watched {
  /** The health of every distinct status seen, in order. */
  seen: Health['status'][];
  last: Health;
  object: { status?: { conditions?: { type: string; message: string }[] } };
}

/** Reads the object until its health is `wanted`, running the health check on every new resourceVersion on the way. */
async function watchHealth(
  kind: string,
  readObject: () => Promise<unknown>,
  wanted: Health['status'],
  timeoutMs: number,
  recordProgressing?: string,
): Promise<Watched> {
  const seen: Health['status'][] = [];
  let version: string | undefined;
  return eventually(
    `${kind} ${wanted} in Argo CD's eyes`,
    async () => {
      const object = (await readObject()) as Watched['object'] & { metadata: { resourceVersion?: string } };
      if (object.metadata.resourceVersion === version) return undefined;
      version = object.metadata.resourceVersion;
      const last = await health(kind, object);
      if (seen.at(-1) !== last.status) seen.push(last.status);
      if (recordProgressing !== undefined && last.status === 'Progressing' && object.status !== undefined) {
        record(kind, recordProgressing, 'the last Progressing status seen on the way', object);
      }
      return last.status === wanted ? { seen, last, object } : undefined;
    },
    timeoutMs,
    250,
  );
}

const readyMessage = (watched: Watched, type = 'Ready'): string | undefined => watched.object.status?.conditions?.find((c) => c.type === type)?.message;

describe('Argo CD health of resources the controller reconciled', () => {
  it('a Topic is Progressing, then Healthy once Kafka has it; Degraded with the refusal when Kafka has more partitions than the spec', async () => {
    const { namespace } = setup.world;
    const name = uniqueName('argocd-topic');
    await create('topics', namespace, { metadata: { name }, spec: { partitions: 2 } });
    const ready = await watchHealth('Topic', () => read('topics', namespace, name), 'Healthy', 60_000);
    record('Topic', 'ready', 'the Kafka topic created as specified', ready.object);
    expect(ready.seen.filter((status) => status !== 'Healthy').every((status) => status === 'Progressing')).toBe(true);
    expect(ready.last.message).toBe(readyMessage(ready));

    // The API server refuses a partition decrease in the spec; a Kafka topic made elsewhere with more partitions is what the controller refuses.
    const existing = uniqueName('argocd-existing');
    const admin = await kafkaAdmin();
    try {
      await admin.createTopics({ topics: [{ topic: existing, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    await create('topics', namespace, { metadata: { name: existing }, spec: { partitions: 1 } });
    const refused = await watchHealth('Topic', () => read('topics', namespace, existing), 'Degraded', 60_000);
    record('Topic', 'more-partitions-in-kafka', 'a Topic asking for 1 partition of a Kafka topic that has 3', refused.object);
    expect(refused.last.message).toBe(readyMessage(refused));
    expect(refused.last.message).toContain('Kafka cannot remove partitions');
  }, 150_000);

  it('a SchemaSubject the controller cannot register (no registry) is Degraded with the reason', async () => {
    const { namespace } = setup.world;
    const name = uniqueName('argocd-subject');
    await create('schemasubjects', namespace, { metadata: { name }, spec: { subject: `${name}-value`, schemaType: 'JSON', schema: '{"type":"object"}' } });
    const refused = await watchHealth('SchemaSubject', () => read('schemasubjects', namespace, name), 'Degraded', 60_000);
    record('SchemaSubject', 'no-registry', 'a controller started without a registry URL', refused.object);
    expect(refused.last.message).toBe(readyMessage(refused));
  }, 90_000);

  it('a StreamJob is Progressing while it deploys, Healthy when Running and Ready, Degraded on a refused spec, Healthy once it is taken back, Suspended when suspended', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await feed.produce(200);
    const job = fraudJob(name, topics, world);
    await createJob(namespace, job);
    const running = await watchHealth('StreamJob', () => readJob(namespace, name), 'Healthy', 300_000, 'deploying');
    record('StreamJob', 'running', 'deployed on two pods, both ready', running.object);
    expect(running.seen.slice(0, -1).every((status) => status === 'Progressing')).toBe(true);
    expect(running.last.message).toBe('2 runtime pods run generation 1');

    // A filter that does not compile: the old spec keeps running, and Argo CD says the applied one is refused.
    const pipeline = job.spec.pipeline!;
    await patchSpec(namespace, name, { pipeline: [{ filter: 'amount >' }, ...pipeline] });
    const refused = await watchHealth('StreamJob', () => readJob(namespace, name), 'Degraded', 120_000);
    record('StreamJob', 'refused-filter', 'generation 2 adds a filter that does not compile', refused.object);
    expect(refused.last.message).toBe(condition(refused.object as never, 'Upgrade')?.message);
    expect(refused.last.message).toContain('is refused and the job keeps running generation 1');

    await patchSpec(namespace, name, { pipeline });
    const back = await watchHealth('StreamJob', () => readJob(namespace, name), 'Healthy', 120_000);
    record('StreamJob', 'refusal-taken-back', 'generation 3 applies the running pipeline again', back.object);
    expect(back.seen).not.toContain('Degraded');

    await patchSpec(namespace, name, { suspend: true });
    const suspended = await watchHealth('StreamJob', () => readJob(namespace, name), 'Suspended', 300_000, 'suspending');
    record('StreamJob', 'suspended', 'generation 4 sets spec.suspend', suspended.object);
    expect(suspended.seen.slice(0, -1).every((status) => status === 'Progressing' || status === 'Healthy')).toBe(true);
    expect(suspended.last.message).toBe(readyMessage(suspended));
  }, 900_000);
});
