// The S3 lake sink on the real S3 server of the test environment: staged chunks become final files only after their transaction, and a start after any crash leaves each result in the lake once.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readEndpoints } from '../../../../test/env/src/endpoints.js';
import type { S3Settings } from '../../snapshot/s3-storage.js';
import { LakeSink } from './sink.js';
import { LakeStore } from './store.js';

const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = readEndpoints().s3;
const settings: S3Settings = { endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } };
const client = new S3Client({ endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } });
const bucket = `lake-${randomBytes(4).toString('hex')}`;
const HOUR_10 = Date.parse('2026-12-07T10:30:00Z');
const HOUR_11 = Date.parse('2026-12-07T11:05:00Z');

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => client.destroy());

let prefixes = 0;
/** A prefix of the test's own, and a sink factory on it; each sink is a pod start (its own attempt). */
function lake(options: { transactional?: boolean; rollInterval?: number } = {}): { prefix: string; open: () => LakeSink; store: LakeStore } {
  const prefix = `t${++prefixes}/`;
  const store = new LakeStore(bucket, settings);
  const open = (): LakeSink =>
    new LakeSink({
      name: 'lake',
      store: new LakeStore(bucket, settings),
      prefix,
      format: 'jsonl',
      rollInterval: options.rollInterval ?? 3_600_000,
      transactional: options.transactional ?? true,
    });
  return { prefix, open, store };
}

const result = (customer: string, timestamp: number) => ({ value: { customer_id: customer, txn_count: 1 }, timestamp });

/** Every final file's key and its lines. */
async function finals(store: LakeStore, prefix: string): Promise<Record<string, string[]>> {
  const files: Record<string, string[]> = {};
  for (const key of await store.list(prefix)) {
    if (key.includes('/_staging/')) continue;
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    files[key.slice(prefix.length)] = (await Body!.transformToString()).trim().split('\n');
  }
  return files;
}

const staged = async (store: LakeStore, prefix: string): Promise<string[]> => (await store.list(`${prefix}_staging/`)).map((key) => key.slice(prefix.length));

describe('the S3 lake sink on a runtime pod', () => {
  it('stages a chunk per partition before the transaction, and shows nothing under the final prefix until it has committed', async () => {
    const { prefix, open, store } = lake();
    const sink = open();
    sink.write(result('C1', HOUR_10), 0);
    sink.write(result('C2', HOUR_10), 1);
    expect(sink.stage().sort()).toEqual([0, 1]);
    expect(sink.offsetMetadata(0)['s3:lake']).toMatchObject({ sequence: 1 });
    await sink.commit();
    expect(await staged(store, prefix)).toHaveLength(2);
    expect(await finals(store, prefix)).toEqual({});
    await sink.committed();
    await sink.close();
    const files = await finals(store, prefix);
    expect(Object.keys(files).sort()).toEqual([
      expect.stringMatching(/^dt=2026-12-07\/hr=10\/part-0-000000000001-000000000001-[0-9a-f]{8}\.jsonl$/),
      expect.stringMatching(/^dt=2026-12-07\/hr=10\/part-1-000000000001-000000000001-[0-9a-f]{8}\.jsonl$/),
    ]);
    expect(Object.values(files).flat().sort()).toEqual(['{"customer_id":"C1","txn_count":1}', '{"customer_id":"C2","txn_count":1}']);
    expect(await staged(store, prefix)).toEqual([]);
  });

  it('rolls a partition’s committed chunks into one file per hour of event time once rollInterval has passed', async () => {
    const { prefix, open, store } = lake({ rollInterval: 0 });
    const sink = open();
    for (const [customer, time] of [
      ['C1', HOUR_10],
      ['C2', HOUR_11],
      ['C3', HOUR_10],
    ] as const)
      sink.write(result(customer, time), 0);
    sink.stage();
    await sink.commit();
    await sink.committed();
    expect(await staged(store, prefix)).toEqual([]);
    const files = await finals(store, prefix);
    expect(Object.entries(files).map(([key, lines]) => [key.split('/part-')[0], lines.length])).toEqual([
      ['dt=2026-12-07/hr=10', 2],
      ['dt=2026-12-07/hr=11', 1],
    ]);
    await sink.close();
  });

  it('after kill -9 before the transaction committed, a start drops the staged chunk: its results are replayed', async () => {
    const { prefix, open, store } = lake();
    const first = open();
    first.write(result('C1', HOUR_10), 0);
    first.stage();
    const committedBefore = new Map([[0, {}]]);
    await first.commit();
    // Killed here: the transaction that recorded chunk 1 never committed, so the offsets' metadata has none.
    const second = open();
    await second.recover(committedBefore);
    expect(await staged(store, prefix)).toEqual([]);
    expect(await finals(store, prefix)).toEqual({});
    // The replay stages the same results again, as sequence 1 of the new attempt.
    second.write(result('C1', HOUR_10), 0);
    second.stage();
    expect(second.offsetMetadata(0)['s3:lake']).toMatchObject({ sequence: 1 });
    await second.commit();
    await second.committed();
    await second.close();
    expect(Object.values(await finals(store, prefix)).flat()).toEqual(['{"customer_id":"C1","txn_count":1}']);
  });

  it('after kill -9 once the transaction committed, a start rolls the chunks it recorded, and a zombie’s chunk is dropped', async () => {
    const { prefix, open, store } = lake();
    const first = open();
    first.write(result('C1', HOUR_10), 0);
    first.stage();
    await first.commit();
    await first.committed();
    first.write(result('C2', HOUR_10), 0);
    first.stage();
    await first.commit();
    await first.committed();
    const recorded = new Map([[0, first.offsetMetadata(0)]]);
    // The fenced pod goes on and stages sequence 3, which no transaction will record.
    first.write(result('C3', HOUR_10), 0);
    first.stage();
    await first.commit();
    const second = open();
    await second.recover(recorded);
    expect(await staged(store, prefix)).toEqual([]);
    const files = await finals(store, prefix);
    expect(Object.keys(files)).toEqual([expect.stringMatching(/part-0-000000000001-000000000002-/)]);
    expect(Object.values(files).flat()).toEqual(['{"customer_id":"C1","txn_count":1}', '{"customer_id":"C2","txn_count":1}']);
    // The next chunk continues the committed sequence.
    second.write(result('C4', HOUR_10), 0);
    second.stage();
    expect(second.offsetMetadata(0)['s3:lake']).toMatchObject({ sequence: 3 });
    await second.close();
  });

  it('redoes a roll a crash cut short into the same keys, so no result shows twice', async () => {
    const { prefix, open, store } = lake();
    const first = open();
    first.write(result('C1', HOUR_10), 0);
    first.write(result('C2', HOUR_11), 0);
    first.stage();
    await first.commit();
    await first.committed();
    const recorded = new Map([[0, first.offsetMetadata(0)]]);
    const chunks = await store.list(`${prefix}_staging/`);
    const bodies = await Promise.all(chunks.map((key) => store.get(key)));
    await open().recover(recorded);
    const rolled = await finals(store, prefix);
    expect(Object.keys(rolled)).toHaveLength(2);
    // As if that start had died after writing the final files, before its marker: the chunks are still there.
    await Promise.all(chunks.map((key, i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[i] }))));
    await open().recover(recorded);
    expect(await finals(store, prefix)).toEqual(rolled);
    expect(await staged(store, prefix)).toEqual([]);
    // And as if it had died after the marker: the start only deletes.
    await Promise.all(chunks.map((key, i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[i] }))));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}_staging/0/rolled-000000000001-000000000001`, Body: '' }));
    await open().recover(recorded);
    expect(await finals(store, prefix)).toEqual(rolled);
    expect(await staged(store, prefix)).toEqual([]);
    store.close();
  });
});

describe('the S3 lake sink in streamctl run', () => {
  it('writes each commit’s results as the lake’s at once, and rolls them all at close', async () => {
    const { prefix, open, store } = lake({ transactional: false });
    const sink = open();
    sink.write(result('C1', HOUR_10));
    await sink.commit();
    sink.write(result('C2', HOUR_10));
    await sink.close();
    const files = await finals(store, prefix);
    expect(Object.keys(files)).toEqual([expect.stringMatching(/^dt=2026-12-07\/hr=10\/part-0-000000000001-000000000002-/)]);
    expect(Object.values(files).flat()).toEqual(['{"customer_id":"C1","txn_count":1}', '{"customer_id":"C2","txn_count":1}']);
    store.close();
  });
});
