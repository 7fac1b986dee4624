// The private broker killed right after a transaction commits, then started again: every committed transaction is whole — its records visible to read_committed readers in every partition and its offsets committed.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { KafkajsClient } from '@sluice/runtime';
import { envPaths } from '../env/src/proc.js';
import { startPrivateKafka, type PrivateKafka } from '../env/src/kafka.js';
import { readCommitted, removeScratchDirs, scratchDir, uniqueName } from '../e2e/kafka/harness.js';

/** Partitions each transaction writes to: many, so the broker is still writing markers when it dies after a commit. */
const PARTITIONS = 24;
const KILLS = 3;

let broker: PrivateKafka;

beforeAll(async () => {
  broker = await startPrivateKafka(envPaths(), scratchDir('kafka'));
}, 180_000);

afterAll(async () => {
  await broker?.stop();
  removeScratchDirs();
});

/** A transactional producer as the runtime opens one: a stable id, so opening it fences the one before and aborts what it left open. */
async function openProducer(brokers: string[], transactionalId: string): Promise<Producer> {
  const kafka = new Kafka({ brokers, clientId: 'sluice-broker-kill', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, retry: { retries: 10, initialRetryTime: 100 } });
  await producer.connect();
  return producer;
}

/**
 * One transaction: the number `n` to every partition of `topic`, and offset `n` of `source` for `group`. Aborted and
 * tried again while the broker answers that it is not ready (a topic's metadata right after its creation or a restart).
 */
async function commitOne(producer: Producer, topic: string, source: string, group: string, n: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const transaction = await producer.transaction();
    try {
      await transaction.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: String(n) })) });
      await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic: source, partitions: [{ partition: 0, offset: String(n) }] }] });
      await transaction.commit();
      return;
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      if ((error as { retriable?: boolean }).retriable !== true || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

it(`keeps every transaction whole across ${KILLS} kill -9s of the broker right after a commit`, async () => {
  const brokers = broker.endpoint.brokers;
  const topic = uniqueName('markers');
  const source = uniqueName('markers-source');
  const group = uniqueName('markers-group');
  const transactionalId = `markers-${randomBytes(4).toString('hex')}`;
  const client = new KafkajsClient({ brokers });
  // Retried while the new broker answers that it does not know a topic it has just created.
  await client.ensureTopics([
    { topic, partitions: PARTITIONS },
    { topic: source, partitions: 1 },
  ]);
  let committed = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const producer = await openProducer(brokers, transactionalId);
    const commits = 3 + kill;
    for (let i = 0; i < commits; i++) await commitOne(producer, topic, source, group, ++committed);
    // No await between the commit's answer and the kill: the broker answers EndTxn once PrepareCommit is logged and
    // writes the markers after it, so the kill catches the transaction between PrepareCommit and CompleteCommit.
    await broker.kill();
    await producer.disconnect().catch(() => undefined);
    await broker.start();
  }
  // The runtime's next step after a restart: a producer of the same id fences the dead one, then reads offsets and data.
  const fencing = await openProducer(brokers, transactionalId);
  await fencing.disconnect();
  try {
    expect((await client.committedOffsets(group, source)).get(0)?.offset).toBe(committed);
  } finally {
    await client.close();
  }
  const values = new Map<number, number[]>();
  for (const message of await readCommitted(brokers, topic))
    values.set(message.partition, [...(values.get(message.partition) ?? []), Number(message.value!.toString())]);
  const every = Array.from({ length: committed }, (_, i) => i + 1);
  for (let partition = 0; partition < PARTITIONS; partition++) expect({ partition, values: values.get(partition) ?? [] }).toEqual({ partition, values: every });
  expect(broker.skippedMarkers()).toEqual([]);
}, 600_000);
