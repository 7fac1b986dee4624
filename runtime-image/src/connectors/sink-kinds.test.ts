// The table of sink kinds: what a runtime pod and streamctl run each open for every kind, and what they say when they cannot.
import { compileJobOrThrow } from '../compiler/compile.js';
import { TransactionOutbox } from '../kafka/sink.js';
import { Formats } from '../serde/open.js';
import { JsonLinesSink } from './file/sink.js';
import { PostgresSink } from './postgres/sink.js';
import { LakeSink } from './s3/sink.js';
import { openLocalSinks, openPodSinks } from './sink-kinds.js';

function sinksOf(...sinks: Record<string, unknown>[]) {
  return compileJobOrThrow({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud' },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json' }],
      pipeline: [{ keyBy: { field: 'customer_id' } }, { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] }],
      sinks,
    },
  }).sinks;
}

const every = sinksOf(
  { name: 'topic', kafka: { topic: 'fraud-features' } },
  { name: 'store', redis: { key: 'fraud:{customer_id}' } },
  { name: 'table', postgres: { table: 'customer_velocity', keyColumns: ['customer_id', 'window_start'] } },
  { name: 'lines', file: { path: '/tmp/sluice-sink-kinds-never-written.jsonl' } },
  { name: 'screen', stdout: {} },
);

describe('streamctl run', () => {
  it('writes file sinks, and says of each other sink where its results go or which flag writes it', () => {
    const notes: string[] = [];
    const sinks = openLocalSinks(every, { connections: {}, output: 'results.jsonl', note: (line) => notes.push(line) });
    expect(sinks).toHaveLength(1);
    expect(sinks[0]).toBeInstanceOf(JsonLinesSink);
    expect(notes).toEqual([
      'sink topic (Kafka topic fraud-features) is not written by streamctl run; its results go to results.jsonl',
      'sink store (Redis fraud:{customer_id}) is skipped; pass --redis redis://127.0.0.1:6379 to write it',
      'sink table (PostgreSQL table customer_velocity) is skipped; pass --postgres postgres://user@127.0.0.1:5432/database to write it (the password from PGPASSWORD)',
      'sink screen (stdout): results go to results.jsonl',
    ]);
  });

  it('writes the PostgreSQL sink when given --postgres', async () => {
    const [table] = openLocalSinks(sinksOf({ name: 'table', postgres: { table: 'customer_velocity', keyColumns: ['customer_id'] } }), {
      connections: { postgresUrl: 'postgres://sluice@127.0.0.1:5432/sluice' },
      output: '-',
      note: () => undefined,
    });
    expect(table).toBeInstanceOf(PostgresSink);
    await table!.close();
  });
});

describe('a runtime pod', () => {
  const pod = { outbox: new TransactionOutbox(), formats: new Formats() };

  it('refuses the sinks only streamctl run writes, naming the sink', () => {
    expect(() => openPodSinks(sinksOf({ name: 'lines', file: { path: 'out.jsonl' } }), { ...pod, connections: {} })).toThrow(
      'sink lines is a file sink, which streamctl run writes; a runtime pod writes Kafka, Redis, PostgreSQL and S3 sinks',
    );
    expect(() => openPodSinks(sinksOf({ name: 'screen', stdout: {} }), { ...pod, connections: {} })).toThrow('sink screen is a stdout sink');
  });

  it('opens an S3 sink as a lake that commits with the transaction (it stages), with or without spec.connections.s3', async () => {
    const lake = sinksOf({ name: 'lake', s3: { bucket: 'fraud-lake' } });
    for (const connections of [{}, { s3: { endpoint: 'http://127.0.0.1:9', forcePathStyle: true } }]) {
      const [sink] = openPodSinks(lake, { ...pod, connections });
      expect(sink).toBeInstanceOf(LakeSink);
      expect(sink!.stage?.()).toEqual([]);
      await sink!.close();
    }
  });

  it('needs the connection of each Redis and PostgreSQL sink, naming the variable the controller sets', () => {
    expect(() => openPodSinks(sinksOf({ name: 'store', redis: { key: 'fraud:{customer_id}' } }), { ...pod, connections: {} })).toThrow(
      'sink store writes to Redis but SLUICE_REDIS_URL is not set',
    );
    expect(() => openPodSinks(sinksOf({ name: 'table', postgres: { table: 't', keyColumns: ['customer_id'] } }), { ...pod, connections: {} })).toThrow(
      'sink table writes to PostgreSQL but SLUICE_POSTGRES_URL is not set',
    );
  });
});
