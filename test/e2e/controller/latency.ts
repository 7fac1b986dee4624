// Reconcile latency, applied → Ready, for Topics and SchemaSubjects: `node --import tsx test/e2e/controller/latency.ts [--count N] [--parallel P]` on a running test environment.
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { group, version, type Condition } from '@sluice/crds';
import { createRegistry, KafkaStore } from '@sluice/registry';
import { cleanNamespace, create, endpoints, kubeconfig, prepareNamespace, randomName, runController } from './harness.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, parallel: { type: 'string', default: '1' } } });
const count = Number(values.count);
const parallel = Number(values.parallel);

type Plural = 'topics' | 'schemasubjects';

/** Resolves each name's promise the first time a watch event shows it Ready for its generation. */
async function watchReady(namespace: string, plural: Plural): Promise<{ readyAt(name: string): Promise<number>; stop(): void }> {
  const waiting = new Map<string, (at: number) => void>();
  const seen = new Map<string, number>();
  const controller = await new Watch(kubeconfig).watch(
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    {},
    (_phase, object: { metadata: { name: string; generation?: number }; status?: { conditions?: Condition[] } }) => {
      const ready = object.status?.conditions?.find((condition) => condition.type === 'Ready');
      if (ready?.status !== 'True' || ready.observedGeneration !== object.metadata.generation || seen.has(object.metadata.name)) return;
      const at = performance.now();
      seen.set(object.metadata.name, at);
      waiting.get(object.metadata.name)?.(at);
    },
    () => undefined,
  );
  return {
    readyAt: (name) => {
      const at = seen.get(name);
      return at !== undefined ? Promise.resolve(at) : new Promise((resolve) => waiting.set(name, resolve));
    },
    stop: () => controller.abort(),
  };
}

async function measure(namespace: string, plural: Plural, spec: (index: number) => object): Promise<number[]> {
  const watch = await watchReady(namespace, plural);
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const name = randomName(plural === 'topics' ? 'lat-topic' : 'lat-subject');
      const applied = performance.now();
      await create(plural, namespace, { metadata: { name }, spec: spec(index) });
      latencies.push((await watch.readyAt(name)) - applied);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  watch.stop();
  return latencies;
}

function report(what: string, latencies: number[]): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1);
  process.stdout.write(
    `${what}: n=${sorted.length} parallel=${parallel} p50=${at(0.5)} ms p99=${at(0.99)} ms max=${sorted[sorted.length - 1]!.toFixed(1)} ms\n`,
  );
}

const namespace = await prepareNamespace('sluice-latency');
const registry = createRegistry({ store: new KafkaStore({ brokers: endpoints.kafka.brokers, topic: randomName('_schemas') }) });
await registry.listen({ port: 0, host: '127.0.0.1' });
const registryUrl = `http://127.0.0.1:${(registry.server.address() as AddressInfo).port}`;
const controller = await runController(namespace, { defaultRegistryUrl: registryUrl, resyncPeriodMs: 600_000 });
try {
  report(
    'Topic applied → Ready',
    await measure(namespace, 'topics', (index) => ({ partitions: 1 + (index % 3), deletionPolicy: 'delete', config: { 'retention.ms': '3600000' } })),
  );
  const schema = (index: number): string => JSON.stringify({ type: 'record', name: `Latency${index}`, fields: [{ name: 'id', type: 'string' }] });
  report(
    'SchemaSubject applied → Ready',
    await measure(namespace, 'schemasubjects', (index) => ({ subject: randomName('latency-value'), schema: schema(index), deletionPolicy: 'hard' })),
  );
} finally {
  await cleanNamespace(namespace);
  await controller.stop();
  await registry.close();
}
