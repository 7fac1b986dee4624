// An error while processing a record on the real Kafka: the task set fails at once with the record's coordinates (no hang), and a restart resumes from the last commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  END_OF_INPUT_HEADER,
  ExactlyOnceTaskSet,
  KafkajsClient,
  RecordProcessingError,
  RocksDbStore,
  TransactionOutbox,
  compileJobOrThrow,
  type Sink,
  type SinkRecord,
} from '@sluice/runtime';
import { messageOf } from '@sluice/crds/errors';
import { readEndpoints } from '../env/src/endpoints.js';
import { kafka, uniqueName } from '../e2e/kafka/harness.js';
import { within } from './harness.js';

const brokers = readEndpoints().kafka.brokers;
const RECORDS = 3000;
/** The record whose result the sink throws on: far enough in for commits before it. */
const FAILING = 2000;

/** A sink that keeps what it is given and throws on the result of record `failOn` (a sink's bug, not a bad record). */
class TestingSink implements Sink {
  readonly written: number[] = [];

  constructor(private readonly failOn?: number) {}

  write(record: SinkRecord): undefined {
    const i = record.value.i as number;
    if (i === this.failOn) throw new Error(`the testing sink fails on record ${i}`);
    this.written.push(i);
    return undefined;
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function produce(topic: string): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // Small requests, so the task set reads (and commits) in many batches.
  for (let from = 0; from < RECORDS; from += 100) {
    await producer.send({ topic, messages: Array.from({ length: 100 }, (_, k) => ({ partition: 0, value: JSON.stringify({ i: from + k, amount: 1 }) })) });
  }
  await producer.send({ topic, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } }] });
  await producer.disconnect();
}

describe('a processing error on Kafka', () => {
  const dirs: string[] = [];
  // Each store is closed once its task set ends; its folder goes only after that (RocksDB still writing to a removed
  // folder fails whichever test file this worker runs next).
  const closing: Promise<unknown>[] = [];
  afterAll(async () => {
    await Promise.allSettled(closing);
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  async function run(name: string, input: string, sink: TestingSink): Promise<ExactlyOnceTaskSet> {
    const job = compileJobOrThrow({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'StreamJob',
      metadata: { name },
      spec: {
        sources: [{ name: 'numbers', kafka: { topic: input }, format: 'json' }],
        pipeline: [{ filter: 'amount > 0' }],
        sinks: [{ name: 'out', stdout: {} }],
        delivery: { commitInterval: '20ms' },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-processing-error-'));
    dirs.push(dir);
    const store = await RocksDbStore.open(dir);
    const client = new KafkajsClient({ brokers });
    const taskSet = new ExactlyOnceTaskSet({
      job,
      client,
      store,
      ordinal: 0,
      parallelism: 1,
      sinks: [sink],
      outbox: new TransactionOutbox(),
      endMarkers: true,
      maxBytesPerPartition: 4096,
    });
    await taskSet.start();
    closing.push(taskSet.done.catch(() => undefined).finally(() => client.close().then(() => store.close())));
    return taskSet;
  }

  it('fails the task set with the record’s topic, partition and offset instead of hanging, and a restart resumes from the last commit', async () => {
    const name = uniqueName('processing-error');
    const input = `${name}-in`;
    await produce(input);

    const failing = await run(name, input, new TestingSink(FAILING));
    const error = await within(
      30_000,
      'the task set failing',
      failing.done.then(
        () => undefined,
        (failure: unknown) => failure,
      ),
    );
    expect(error).toBeInstanceOf(RecordProcessingError);
    expect(error).toMatchObject({ topic: input, partition: 0, offset: FAILING, code: 'SLUICE_E_RECORD_PROCESSING' });
    expect(messageOf(error)).toMatch(new RegExp(`failed processing ${input} partition 0 offset ${FAILING}: the testing sink fails on record ${FAILING}`));
    expect(failing.phase).toBe('failed');
    // A transaction started before the failure may still be committing: the restart's position is where it leaves off.
    await failing.commit().catch(() => undefined);

    // The restart reads from the last commit on: each record from there exactly once, none before it twice.
    const client = new KafkajsClient({ brokers });
    const resumedAt = (await client.committedOffsets(`sluice-${name}`, input)).get(0)?.offset ?? 0;
    await client.close();
    const restarted = new TestingSink();
    const again = await run(name, input, restarted);
    await within(30_000, 'the restarted task set finishing', again.done);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(FAILING);
    expect(restarted.written).toEqual(Array.from({ length: RECORDS - resumedAt }, (_, k) => resumedAt + k));
  }, 90_000);
});
