// The test environment's Kafka broker: topics, and the transactions the engine's exactly-once design stands on.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { readEndpoints } from './src/endpoints.js';
import { eventually } from './src/eventually.js';

const client = new Kafka({ clientId: 'sluice-env-test', brokers: readEndpoints().kafka.brokers, logLevel: logLevel.NOTHING });
const topic = `kafka-test-${randomBytes(4).toString('hex')}`;
const partitions = [0, 1, 2];
let admin: Admin;
/** Clients a failed test may leave connected; closing them all in afterAll lets jest exit. */
const clients: Array<{ disconnect(): Promise<void> }> = [];

function tracked<C extends { disconnect(): Promise<void> }>(connection: C): C {
  clients.push(connection);
  return connection;
}

function transactionalProducer(): Producer {
  return tracked(client.producer({ transactionalId: `kafka-test-${randomBytes(4).toString('hex')}`, idempotent: true, maxInFlightRequests: 1 }));
}

/** One transaction that writes `label-<partition>-<i>` to every partition of the topic, then commits or aborts. */
async function transaction(producer: Producer, label: string, outcome: 'commit' | 'abort'): Promise<string[]> {
  const messages = partitions.flatMap((partition) => [0, 1].map((i) => ({ partition, value: `${label}-${partition}-${i}` })));
  const txn = await producer.transaction();
  await txn.send({ topic, messages });
  await (outcome === 'commit' ? txn.commit() : txn.abort());
  return messages.map(({ value }) => value);
}

async function committedOffsets(groupId: string): Promise<Record<number, string>> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries((offsets?.partitions ?? []).map(({ partition, offset }) => [partition, offset]));
}

beforeAll(async () => {
  admin = tracked(client.admin());
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions.length }], waitForLeaders: true });
});

afterAll(async () => {
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await Promise.allSettled(clients.map((connection) => connection.disconnect()));
  }
});

describe('the Kafka broker', () => {
  it('creates a topic with 3 partitions', async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

    expect(metadata.topics[0]?.partitions.map(({ partitionId }) => partitionId).sort()).toEqual(partitions);
  });

  it('shows a read_committed consumer the committed transactions and none of the aborted one', async () => {
    const producer = transactionalProducer();
    await producer.connect();
    const first = await transaction(producer, 'first', 'commit');
    const aborted = await transaction(producer, 'aborted', 'abort');
    // Committed after the aborted one on every partition: once the consumer has it all, an aborted record, were one visible, would have come before.
    const last = await transaction(producer, 'last', 'commit');
    await producer.disconnect();

    const seen = new Set<string>();
    const consumer = tracked(client.consumer({ groupId: `kafka-test-${randomBytes(4).toString('hex')}`, readUncommitted: false, maxWaitTimeInMs: 100 }));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.add(String(message.value));
        return Promise.resolve();
      },
    });
    await eventually('the last committed transaction on every partition', () => Promise.resolve(last.every((value) => seen.has(value)) ? true : undefined));
    await consumer.disconnect();

    expect([...seen].sort()).toEqual([...first, ...last].sort());
    expect(aborted.filter((value) => seen.has(value))).toEqual([]);
  });

  it('commits consumer offsets with a transaction and discards those of an aborted one', async () => {
    const groupId = `kafka-test-${randomBytes(4).toString('hex')}`;
    const producer = transactionalProducer();
    await producer.connect();
    const withOffsets = async (offsets: Record<number, string>, outcome: 'commit' | 'abort'): Promise<void> => {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ partition: 0, value: `offsets-${outcome}` }] });
      await txn.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: Object.entries(offsets).map(([partition, offset]) => ({ partition: Number(partition), offset })) }],
      });
      await (outcome === 'commit' ? txn.commit() : txn.abort());
    };

    await withOffsets({ 0: '5', 1: '7' }, 'commit');
    // The commit's markers reach the offsets topic after commit() returns, so the offsets become readable a moment later.
    await eventually('the committed offset 7 of partition 1', async () => ((await committedOffsets(groupId))[1] === '7' ? true : undefined));
    await withOffsets({ 0: '9', 1: '11' }, 'abort');
    // The coordinator lets the next transaction of this producer start only once the aborted one is finished on every partition.
    await withOffsets({ 2: '3' }, 'commit');
    await eventually('the committed offset 3 of partition 2', async () => ((await committedOffsets(groupId))[2] === '3' ? true : undefined));
    await producer.disconnect();

    expect(await committedOffsets(groupId)).toEqual({ 0: '5', 1: '7', 2: '3' });
  });
});
