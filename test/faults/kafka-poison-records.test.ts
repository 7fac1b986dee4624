// Single bad records on the real Kafka: each ends as a dead letter that is the input as it arrived, with a bounded reason — never a hang, a blocked event loop or a crash loop.
import { DEAD_LETTER_HEADERS, END_OF_INPUT_HEADER, type FetchedMessage } from '@sluice/runtime';
import type { IHeaders } from 'kafkajs';
import { MAX_REASON_BYTES } from '../../runtime-image/src/connectors/sink.js';
import { readEndpoints } from '../env/src/endpoints.js';
import { kafka, readCommitted, removeScratchDirs, scratchDir, startRuntime, uniqueName, writeJobFile } from '../e2e/kafka/harness.js';
import { faultJobSpec, validTransaction, within } from './harness.js';

const brokers = readEndpoints().kafka.brokers;

interface Input {
  key?: Buffer | string | null;
  value: Buffer | string;
  headers?: IHeaders;
}

/** Creates the input (one partition, 4 MB messages) and produces the messages, then the end-of-input marker. */
async function produce(topic: string, messages: readonly Input[]): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(4 << 20) }] }],
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const message of messages)
      await producer.send({ topic, messages: [{ partition: 0, key: message.key ?? null, value: message.value, headers: message.headers }] });
    await producer.send({ topic, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } }] });
  } finally {
    await producer.disconnect();
  }
}

const valid = (from: number, count: number): Input[] =>
  Array.from({ length: count }, (_, i) => ({ key: `c${(from + i) % 5}`, value: JSON.stringify(validTransaction(from + i, 5)) }));

/**
 * Runs the fault job (filter, keyBy, windows, a sink keyed by '{customer_id}', a dead-letter topic) over the input
 * to its end, or with `pipeline` instead of its own; returns its dead letters and results.
 */
async function runFaultJob(name: string, input: string, pipeline?: unknown[]): Promise<{ letters: FetchedMessage[]; results: FetchedMessage[] }> {
  const topics = { input, output: `${name}-out`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
  const spec = faultJobSpec(topics);
  if (pipeline !== undefined) spec.pipeline = pipeline;
  const runtime = startRuntime({
    SLUICE_JOB_FILE: writeJobFile(name, spec),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
  });
  await within(50_000, `job ${name} finishing`, runtime.exitsWith(0));
  return { letters: await readCommitted(brokers, topics.deadLetter), results: await readCommitted(brokers, topics.output) };
}

/** Nested `depth` deep, with an event time that cannot be read: before depth was bounded, its dead letter's JSON.stringify overflowed the stack. */
const nested = (depth: number): string => `{"customer_id":"deep","amount":1,"timestamp":"never","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;

describe('poison records on Kafka', () => {
  afterAll(removeScratchDirs);

  it('dead-letters a record nested 6,000 deep as it arrived, and finishes instead of hanging', async () => {
    const name = uniqueName('deep');
    const input = `${name}-in`;
    const deep = nested(6000);
    await produce(input, [...valid(0, 20), { value: deep }, ...valid(20, 20)]);
    const { letters, results } = await runFaultJob(name, input);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value!.toString()).toBe(deep);
    expect(letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/more than 64 levels deep/);
    expect(letters[0]!.headers[DEAD_LETTER_HEADERS.offset]).toBe('20');
    expect(results.length).toBeGreaterThan(0);
  }, 60_000);

  it('keeps binary input byte for byte: key, value and headers, with the coordinates and timestamp in headers', async () => {
    const name = uniqueName('binary');
    const input = `${name}-in`;
    const binary = Array.from({ length: 50 }, (_, i) => ({
      key: Buffer.from([0xff, 0xfe, i, 0x80]),
      value: Buffer.from([0x7b, 0xc3, 0x28, i, 0xa0, 0xa1, 0x00, 0xff]),
      headers: { trace: Buffer.from([0xde, 0xad, i]), 'content-type': 'application/octet-stream' },
    }));
    await produce(input, [...valid(0, 10), ...binary, ...valid(10, 10)]);
    const { letters } = await runFaultJob(name, input);
    expect(letters).toHaveLength(50);
    for (const letter of letters) {
      const offset = Number(letter.headers[DEAD_LETTER_HEADERS.offset]);
      const sent = binary[offset - 10]!;
      expect(letter.key!.equals(sent.key)).toBe(true);
      expect(letter.value!.equals(sent.value)).toBe(true);
      expect(letter.rawHeaders.trace).toEqual(sent.headers.trace);
      expect(letter.headers['content-type']).toBe('application/octet-stream');
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(input);
      expect(letter.headers[DEAD_LETTER_HEADERS.partition]).toBe('0');
      expect(Number(letter.headers[DEAD_LETTER_HEADERS.timestamp])).toBeGreaterThan(Date.parse('2025-01-01'));
    }
  }, 60_000);

  it('bounds the reason of a record with a 1 MB timestamp; the dead letter is the record and the valid records around it are committed', async () => {
    const name = uniqueName('long-time');
    const input = `${name}-in`;
    const record = JSON.stringify({ customer_id: 'c1', amount: 5, timestamp: '9'.repeat(1_000_000) });
    await produce(input, [...valid(0, 20), { value: record }, ...valid(20, 20)]);
    const { letters, results } = await runFaultJob(name, input);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.value!.toString()).toBe(record);
    expect(Buffer.byteLength(letters[0]!.headers[DEAD_LETTER_HEADERS.reason]!)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    const counted = new Map<string, number>();
    for (const result of results.map((m) => JSON.parse(m.value!.toString()) as { customer_id: string; window_start: string; txn_count: number })) {
      counted.set(`${result.customer_id} ${result.window_start}`, result.txn_count);
    }
    expect([...counted.values()].reduce((a, b) => a + b, 0)).toBe(40);
  }, 60_000);

  it('dead-letters a record with a 1 MB key before it makes state or is partitioned, and the job goes on', async () => {
    const name = uniqueName('long-key');
    const input = `${name}-in`;
    const record = JSON.stringify({ customer_id: `k${'y'.repeat(1_000_000)}`, amount: 5, timestamp: '2025-12-05T00:00:05Z' });
    await produce(input, [...valid(0, 20), { value: record }, ...valid(20, 20)]);
    // keyBy and a window: the key would be in every state entry and changelog record of its windows.
    const windowed = await runFaultJob(name, input);
    expect(windowed.letters).toHaveLength(1);
    expect(windowed.letters[0]!.value!.toString()).toBe(record);
    expect(windowed.letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/the key takes 1000005 bytes, over the 16384 bytes a window key may take/);
    expect(windowed.results.length).toBeGreaterThan(0);
    // No state: the sink's key template makes the 1 MB message key, refused before kafkajs's partitioner would hash it.
    const filtered = await runFaultJob(`${name}-filter`, input, [{ filter: 'amount > 0.0' }]);
    expect(filtered.letters).toHaveLength(1);
    expect(filtered.letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/the key is 1000001 bytes, over the 16384 bytes a key may take/);
    expect(filtered.results).toHaveLength(40);
  }, 90_000);
});
