// The Kafka sink outside exactly-once (a plain idempotent producer) on the real Kafka: every result once, keyed by its template.
import { KafkaSink, KafkajsClient, ProducerOutbox } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { createTopics, readCommitted, uniqueName } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

describe('the Kafka sink with a plain producer', () => {
  it('writes every result on commit, keyed by the key template, across several produce requests', async () => {
    const topic = uniqueName('features');
    await createTopics(brokers, [topic], 3);
    const client = new KafkajsClient({ brokers });
    const producer = await client.producer();
    try {
      const sink = new KafkaSink({ topic, key: 'customer-{customer_id}', outbox: new ProducerOutbox(producer) });
      for (let i = 0; i < 2500; i++) expect(sink.write({ value: { customer_id: i % 50, txn_count: i }, timestamp: i })).toBeUndefined();
      await sink.commit();
    } finally {
      await producer.close();
      await client.close();
    }
    const messages = await readCommitted(brokers, topic);
    expect(messages).toHaveLength(2500);
    const counts = messages.map((m) => (JSON.parse(m.value!.toString()) as { txn_count: number }).txn_count).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    const first = messages.find((m) => m.value!.toString() === '{"customer_id":7,"txn_count":7}');
    expect(first?.key?.toString()).toBe('customer-7');
  });
});
