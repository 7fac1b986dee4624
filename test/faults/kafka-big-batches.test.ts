// Commits bigger than a record batch on the real Kafka: produce requests are split below each topic's max.message.bytes, and a dead letter too big for its topic is cut to fit.
import { DEAD_LETTER_HEADERS, END_OF_INPUT_HEADER } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { kafka, readCommitted, removeScratchDirs, scratchDir, startRuntime, uniqueName, writeJobFile } from '../e2e/kafka/harness.js';
import { validTransaction, within } from './harness.js';

const brokers = readEndpoints().kafka.brokers;

async function createTopic(topic: string, config: Record<string, string> = {}): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Produces the values to partition 0 in requests of at most ~900 KB (below the input topic's limit), then the end-of-input marker. */
async function produce(topic: string, values: readonly (string | Buffer)[]): Promise<void> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let batch: (string | Buffer)[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await producer.send({ topic, messages: batch.map((value) => ({ partition: 0, value })) });
      batch = [];
      bytes = 0;
    };
    for (const value of values) {
      if (bytes + value.length > 900_000) await flush();
      batch.push(value);
      bytes += value.length;
    }
    await flush();
    await producer.send({ topic, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } }] });
  } finally {
    await producer.disconnect();
  }
}

function runtimeEnv(jobFile: string, bounded = true): Record<string, string> {
  return { SLUICE_JOB_FILE: jobFile, SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_STATE_DIR: scratchDir('state'), SLUICE_END_MARKERS: String(bounded) };
}

describe('big commits on Kafka', () => {
  afterAll(removeScratchDirs);

  it('passes 20,000 records of 1.5 KB through a filter in one partition: the commit is split below 1 MiB per batch', async () => {
    const name = uniqueName('big-filter');
    const input = `${name}-in`;
    const output = `${name}-out`;
    await createTopic(input);
    const padding = 'x'.repeat(1400);
    const values = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ...validTransaction(i, 20), i, padding }));
    await produce(input, values);
    const job = writeJobFile(name, {
      sources: [{ name: 'transactions', kafka: { topic: input }, format: 'json' }],
      pipeline: [{ filter: 'amount > 0.0' }],
      sinks: [{ name: 'out', kafka: { topic: output } }],
      deadLetter: { topic: `${name}-dead-letter` },
    });
    const runtime = startRuntime(runtimeEnv(job));
    await within(120_000, 'the filter job finishing', runtime.exitsWith(0));
    const results = await readCommitted(brokers, output);
    expect(results.length).toBe(20_000);
    expect(new Set(results.map((m) => (JSON.parse(m.value!.toString()) as { i: number }).i)).size).toBe(20_000);
  }, 180_000);

  it('commits the changelog of count_distinct over 20 keys × 1,000 values of 80 bytes: state records split below 1 MiB per batch', async () => {
    const name = uniqueName('big-changelog');
    const input = `${name}-in`;
    await createTopic(input);
    const values = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({ ...validTransaction(i, 20), merchant: `m${String(Math.floor(i / 20)).padStart(79, '0')}` }),
    );
    await produce(input, values);
    // One commit after all input is read, windows still open: it carries every key's whole state (20 × ~80 KB).
    const job = writeJobFile(name, {
      sources: [
        {
          name: 'transactions',
          kafka: { topic: input, keyedBy: 'customer_id' },
          format: 'json',
          eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
        },
      ],
      pipeline: [
        { keyBy: { field: 'customer_id' } },
        { window: { type: 'tumbling', size: '1d' }, aggregate: [{ name: 'merchants', fn: 'count_distinct', field: 'merchant' }] },
      ],
      sinks: [{ name: 'out', kafka: { topic: `${name}-out`, key: '{customer_id}' } }],
      delivery: { commitInterval: '10s' },
    });
    const runtime = startRuntime(runtimeEnv(job, false));
    await within(60_000, 'the first commit', runtime.waitForEvents('committed', 1));
    runtime.child.kill('SIGTERM');
    await runtime.exitsWith(0);
    const changelog = await readCommitted(brokers, `${name}-window-1-changelog`);
    const latest = new Map(changelog.map((m) => [m.key!.toString(), m.value?.length ?? 0]));
    expect(latest.size).toBe(20);
    expect([...latest.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(1 << 20);
  }, 180_000);

  it('stops with a failure naming the operator, the key and the limit when one key’s state is over its changelog’s limit', async () => {
    const name = uniqueName('huge-state');
    const input = `${name}-in`;
    await createTopic(input);
    // One key, 9,900 distinct values of 120 bytes (count_distinct is exact up to 10,000): its state alone is over 1 MiB.
    const values = Array.from({ length: 9_900 }, (_, i) => JSON.stringify({ ...validTransaction(i, 1), merchant: `m${String(i).padStart(119, '0')}` }));
    await produce(input, values);
    const job = writeJobFile(name, {
      sources: [
        {
          name: 'transactions',
          kafka: { topic: input, keyedBy: 'customer_id' },
          format: 'json',
          eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
        },
      ],
      pipeline: [
        { keyBy: { field: 'customer_id' } },
        { window: { type: 'tumbling', size: '1d' }, aggregate: [{ name: 'merchants', fn: 'count_distinct', field: 'merchant' }] },
      ],
      sinks: [{ name: 'out', kafka: { topic: `${name}-out`, key: '{customer_id}' } }],
      delivery: { commitInterval: '10s' },
    });
    const runtime = startRuntime(runtimeEnv(job, false));
    await within(60_000, 'the pod failing', runtime.exited).catch((error: Error) => {
      runtime.child.kill('SIGKILL');
      throw new Error(`${error.message}; events:\n${runtime.events.map((event) => JSON.stringify(event)).join('\n')}`);
    });
    await runtime.exitsWith(1);
    const failed = runtime.events.find((event) => event.event === 'failed')!;
    expect(failed.code).toBe('SLUICE_E_STATE_TOO_LARGE');
    expect(failed.error).toMatch(
      /^operator window-1: the state of key .*c0.* takes \d+ bytes, over the 1048588 bytes \(max\.message\.bytes\) of its changelog .*-window-1-changelog; state cannot be dead-lettered/,
    );
  }, 180_000);

  it('writes six 600 KB dead letters of one commit as they arrived, and cuts one too big for the dead-letter topic, saying so', async () => {
    const name = uniqueName('big-dlq');
    const input = `${name}-in`;
    const deadLetter = `${name}-dead-letter`;
    // The input takes 2 MB messages; the dead-letter topic the runtime creates keeps the broker's default (~1 MiB).
    await createTopic(input, { 'max.message.bytes': String(4 << 20) });
    const big = Array.from({ length: 6 }, (_, i) => Buffer.alloc(600_000, 0x61 + i));
    const huge = Buffer.alloc(2_000_000, 0x7a);
    const valid = Array.from({ length: 100 }, (_, i) => JSON.stringify(validTransaction(i, 5)));
    await produce(input, [...valid.slice(0, 50), ...big, huge, ...valid.slice(50)]);
    const job = writeJobFile(name, {
      sources: [{ name: 'transactions', kafka: { topic: input }, format: 'json' }],
      pipeline: [{ filter: 'amount > 0.0' }],
      sinks: [{ name: 'out', kafka: { topic: `${name}-out` } }],
      deadLetter: { topic: deadLetter },
    });
    await within(120_000, 'the job finishing', startRuntime(runtimeEnv(job)).exitsWith(0));

    const letters = await readCommitted(brokers, deadLetter);
    expect(letters).toHaveLength(7);
    const byOffset = new Map(letters.map((letter) => [Number(letter.headers[DEAD_LETTER_HEADERS.offset]), letter]));
    for (const [i, value] of big.entries()) {
      const letter = byOffset.get(50 + i)!;
      expect(letter.value!.equals(value)).toBe(true);
      expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/not JSON/);
      expect(letter.headers[DEAD_LETTER_HEADERS.truncated]).toBeUndefined();
    }
    const cut = byOffset.get(56)!;
    expect(cut.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.truncated]: 'value',
      [DEAD_LETTER_HEADERS.valueBytes]: '2000000',
      [DEAD_LETTER_HEADERS.topic]: input,
      [DEAD_LETTER_HEADERS.partition]: '0',
    });
    expect(cut.value!.length).toBeGreaterThan(1_000_000);
    expect(cut.value!.equals(huge.subarray(0, cut.value!.length))).toBe(true);
  }, 180_000);
});
