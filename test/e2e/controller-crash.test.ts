// The controller SIGKILLed in the middle of reconciling many Topics (creating, then deleting them), restarted, ends in the same state as an uninterrupted run.
import type { Topic } from '@sluice/crds';
import kafkajs, { type Admin } from 'kafkajs';
import { cleanNamespace, condition, create, eventually, kafkaAdmin, list, prepareNamespace, randomName, remove, runController } from './controller/harness.js';
import { spawnController, type ControllerProcess } from './controller/process.js';

const { ConfigResourceTypes, ConfigSource } = kafkajs;
const count = 40;

let namespace: string;
let admin: Admin;
const running: ControllerProcess[] = [];

beforeAll(async () => {
  namespace = await prepareNamespace('sluice-crash');
  admin = await kafkaAdmin();
});

afterAll(async () => {
  for (const process of running) process.child.kill('SIGKILL');
  // An in-process controller releases the finalizers of what is left, so the namespace can go.
  const controller = await runController(namespace);
  await cleanNamespace(namespace);
  await controller.stop();
  await admin?.disconnect();
});

/** The named Topics that still exist, in one list request so that progress is sampled often. */
async function topicsIn(names: string[]): Promise<Topic[]> {
  const wanted = new Set(names);
  return (await list('topics', namespace)).filter((topic) => wanted.has(topic.metadata.name ?? ''));
}

const ready = (topic: Topic): boolean => condition(topic, 'Ready')?.status === 'True' && topic.status?.observedGeneration === topic.metadata.generation;

async function kafkaState(names: string[]): Promise<Map<string, { partitions: number; overrides: Record<string, string> }>> {
  const wanted = new Set(names);
  const metadata = (await admin.fetchTopicMetadata()).topics.filter((topic) => wanted.has(topic.name));
  const state = new Map<string, { partitions: number; overrides: Record<string, string> }>();
  if (metadata.length === 0) return state;
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: metadata.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: topic.name })),
  });
  for (const topic of metadata) {
    const entries = resources.find((resource) => resource.resourceName === topic.name)?.configEntries ?? [];
    const overrides = Object.fromEntries(
      entries.filter((entry) => entry.configSource === ConfigSource.TOPIC_CONFIG).map((entry) => [entry.configName, entry.configValue]),
    );
    state.set(topic.name, { partitions: topic.partitions.length, overrides });
  }
  return state;
}

/** Kills the process once `progress` says some but not all of the work is done; returns how much was done then. */
async function killMidway(process: ControllerProcess, progress: () => Promise<number>): Promise<number> {
  const done = await eventually(
    'the controller to be partway through',
    async () => {
      const finished = await progress();
      return finished > 0 ? finished : undefined;
    },
    60_000,
    10,
  );
  process.child.kill('SIGKILL');
  await process.exited;
  return done;
}

describe('a controller killed in the middle of reconciling', () => {
  it('ends, after a restart, with every Topic created and converged, and every deleted one gone', async () => {
    const names = Array.from({ length: count }, (_, index) => randomName(`crash-${index}`));
    const spec = (index: number) => ({
      partitions: 1 + (index % 4),
      deletionPolicy: 'delete' as const,
      config: { 'retention.ms': String(3_600_000 + index), 'cleanup.policy': index % 2 === 0 ? 'delete' : 'compact' },
    });
    await Promise.all(names.map((name, index) => create('topics', namespace, { metadata: { name }, spec: spec(index) })));

    const first = spawnController(namespace);
    running.push(first);
    const readyAtKill = await killMidway(first, async () => (await topicsIn(names)).filter(ready).length);
    expect(readyAtKill).toBeLessThan(count);

    const second = spawnController(namespace);
    running.push(second);
    await eventually(
      'every Topic to be Ready after the restart',
      async () => ((await topicsIn(names)).filter(ready).length === count ? true : undefined),
      60_000,
    );
    const state = await kafkaState(names);
    names.forEach((name, index) => {
      expect(state.get(name)).toEqual({ partitions: spec(index).partitions, overrides: spec(index).config });
    });
    for (const topic of await topicsIn(names)) expect(topic.metadata.finalizers).toEqual(['sluice.dev/topic']);

    // Deletion through the finalizer, killed midway too.
    await Promise.all(names.map((name) => remove('topics', namespace, name)));
    const goneAtKill = await killMidway(second, async () => count - (await topicsIn(names)).length);
    expect(goneAtKill).toBeLessThan(count);
    const third = spawnController(namespace);
    running.push(third);
    await eventually('every Topic to be deleted after the restart', async () => ((await topicsIn(names)).length === 0 ? true : undefined), 60_000);
    await eventually('every Kafka topic to be deleted', async () => ((await kafkaState(names)).size === 0 ? true : undefined), 60_000);
    expect(third.output()).toMatch(/became the leader/);
  });
});
