// The runtime pod's sinks from a compiled job: CEL placeholders in Kafka and Redis key templates, and a Redis value that is an expression, on the real Redis.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import { compileJobOrThrow } from '../compiler/compile.js';
import { TransactionOutbox } from '../kafka/sink.js';
import { openSinks } from './sinks.js';

function job(prefix: string): unknown {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud' },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' } }],
      pipeline: [{ keyBy: { field: 'customer_id' } }, { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] }],
      sinks: [
        { name: 'topic', kafka: { topic: 'fraud-features', key: '{customer_id + ":" + window_start.substring(0, 16)}' } },
        { name: 'store', redis: { key: `${prefix}:{customer_id}:{window_start.substring(11, 16)}`, value: 'string(txn_count) + "/" + customer_id' } },
      ],
    },
  };
}

const result = { customer_id: 'C7', window_start: '2025-12-05T10:20:00.000Z', window_end: '2025-12-05T10:25:00.000Z', txn_count: 3 };

test('Kafka and Redis key templates with CEL placeholders, and a Redis value that is an expression', async () => {
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const redis = new Redis(readEndpoints().redis.url);
  const outbox = new TransactionOutbox();
  const sinks = openSinks(compileJobOrThrow(job(prefix)).sinks, outbox, { redisUrl: readEndpoints().redis.url });
  try {
    for (const sink of sinks) expect(sink.write({ value: result, timestamp: 1 })).toBeUndefined();
    for (const sink of sinks) await sink.commit();
    expect(outbox.take()).toEqual([{ topic: 'fraud-features', key: 'C7:2025-12-05T10:20', value: JSON.stringify(result) }]);
    expect(await redis.get(`${prefix}:C7:10:20`)).toBe('3/C7');
  } finally {
    for (const sink of sinks) await sink.close();
    await redis.quit();
  }
});

test('a PostgreSQL sink needs the URL the controller sets from spec.connections.postgres, and says which variable', () => {
  const manifest = job('unused') as { spec: { sinks: unknown[] } };
  manifest.spec.sinks = [{ name: 'velocity-table', postgres: { table: 'customer_velocity', keyColumns: ['customer_id', 'window_start'] } }];
  expect(() => openSinks(compileJobOrThrow(manifest).sinks, new TransactionOutbox(), {})).toThrow(
    'sink velocity-table writes to PostgreSQL but SLUICE_POSTGRES_URL is not set: set spec.connections.postgres.url (postgres://user@host:5432/database)',
  );
});
