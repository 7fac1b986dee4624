import { KafkaSink, TransactionOutbox } from './sink.js';

describe('the Kafka sink', () => {
  it('hands each result to the outbox as JSON, keyed by the key template', () => {
    const outbox = new TransactionOutbox();
    const sink = new KafkaSink({ topic: 'fraud-features', key: '{customer_id}', outbox });
    const value = { customer_id: 'C7', window_start: '2025-12-05T00:00:00.000Z', txn_count: 3 };
    expect(sink.write({ value, timestamp: 1 })).toBeUndefined();
    expect(outbox.take()).toEqual([{ topic: 'fraud-features', key: 'C7', value: JSON.stringify(value) }]);
    expect(outbox.size).toBe(0);
  });

  it('returns a dead letter naming the field for a result the template cannot key', () => {
    const outbox = new TransactionOutbox();
    const sink = new KafkaSink({ topic: 'fraud-features', key: '{customer_id}', outbox });
    const letter = sink.write({ value: { txn_count: 3 }, timestamp: 1 });
    expect(letter?.reason).toMatch(/Kafka sink fraud-features: .*"customer_id"/);
    expect(outbox.size).toBe(0);
  });

  it('writes messages without a key when there is no template', () => {
    const outbox = new TransactionOutbox();
    new KafkaSink({ topic: 'out', outbox }).write({ value: { a: 1 }, timestamp: 1 });
    expect(outbox.take()).toEqual([{ topic: 'out', key: null, value: '{"a":1}' }]);
  });
});
