// The fault corpus through the runtime on the real Kafka: every bad record is dead-lettered as it arrived or processed; the job neither hangs nor crashes, and valid results are untouched.
import { DEAD_LETTER_HEADERS, END_OF_INPUT_HEADER, type FetchedMessage } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { kafka, readCommitted, removeScratchDirs, scratchDir, startRuntime, uniqueName, type FraudJobTopics, writeJobFile } from '../e2e/kafka/harness.js';
import { faultCorpus, type FaultRecord } from './corpus.js';
import { faultJobSpec, latestValidResults, validTransaction, watchMemory, within } from './harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 2;
const VALID = 4000;
const CUSTOMERS = 50;
/** Corpus records go in only after valid event time passed the corpus's own times (00:10), so a processed one cannot make valid records late. */
const FIRST_POISON_AT = 1600;
/** Big enough for the corpus's 2.5 MB record on the input; the job's own topics keep the broker's default (~1 MiB). */
const INPUT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** A dead letter's reason says what is wrong in a line or two, whatever the record holds. */
const MAX_REASON_BYTES = 2048;
/** The runtime's resident set over the whole run, megabyte records included. */
const MAX_RSS_BYTES = 1536 * 1024 * 1024;

interface Placed {
  record: FaultRecord;
  partition: number;
  offset: number;
}

async function createInput(topic: string): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS, configEntries: [{ name: 'max.message.bytes', value: String(INPUT_MAX_MESSAGE_BYTES) }] }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Valid transactions round-robin over the partitions, the corpus mixed in after FIRST_POISON_AT, end markers last; returns where each corpus record landed. */
async function produce(topic: string, corpus: readonly FaultRecord[]): Promise<Placed[]> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const placed: Placed[] = [];
  try {
    const every = Math.floor((VALID - FIRST_POISON_AT) / (corpus.length + 1));
    let next = 0;
    for (let start = 0; start < VALID; start += every) {
      const end = Math.min(VALID, start + every);
      const valid = [];
      for (let i = start; i < end; i++) valid.push({ partition: i % PARTITIONS, value: JSON.stringify(validTransaction(i, CUSTOMERS)) });
      await producer.send({ topic, messages: valid });
      if (end < FIRST_POISON_AT || next >= corpus.length) continue;
      const record = corpus[next]!;
      const partition = next % PARTITIONS;
      next += 1;
      const [answer] = await producer.send({ topic, messages: [{ partition, key: record.key, value: record.value, headers: record.headers }] });
      placed.push({ record, partition, offset: Number(answer!.baseOffset) });
    }
    if (next !== corpus.length) throw new Error(`only ${next} of ${corpus.length} corpus records were placed`);
    await producer.send({
      topic,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
  } finally {
    await producer.disconnect();
  }
  return placed;
}

async function produceValidOnly(topic: string): Promise<void> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: VALID }, (_, i) => ({ partition: i % PARTITIONS, value: JSON.stringify(validTransaction(i, CUSTOMERS)) })),
    });
    await producer.send({
      topic,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
    });
  } finally {
    await producer.disconnect();
  }
}

function topicsOf(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

/** Runs the fault job over `input` to the end of the input; fails if it hangs or exits non-zero. Returns the largest RSS seen. */
async function runToEnd(topics: FraudJobTopics): Promise<number> {
  const runtime = startRuntime({
    SLUICE_JOB_FILE: writeJobFile(topics.name, faultJobSpec(topics)),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
  });
  const memory = watchMemory(runtime.child.pid!);
  try {
    await within(240_000, `the fault job ${topics.name} reaching the end of its input`, runtime.exitsWith(0));
  } catch (error) {
    runtime.child.kill('SIGKILL');
    throw error;
  } finally {
    memory.stop();
  }
  return memory.max();
}

const values = (messages: readonly FetchedMessage[]): string[] => messages.map((m) => m.value?.toString('utf8') ?? '');

describe('the fault corpus through the runtime on Kafka', () => {
  afterAll(removeScratchDirs);

  const corpus = faultCorpus();
  let placed: Placed[] = [];
  let letters: FetchedMessage[] = [];
  let faulty: FraudJobTopics;
  let maxRss = 0;
  let cleanResults: string[] = [];

  beforeAll(async () => {
    const input = uniqueName('faults');
    const clean = uniqueName('faults-clean');
    await createInput(input);
    await createInput(clean);
    placed = await produce(input, corpus);
    await produceValidOnly(clean);
    faulty = topicsOf(input, uniqueName('faulty'));
    maxRss = await runToEnd(faulty);
    const cleanTopics = topicsOf(clean, uniqueName('clean'));
    await runToEnd(cleanTopics);
    letters = await readCommitted(brokers, faulty.deadLetter);
    cleanResults = latestValidResults(values(await readCommitted(brokers, cleanTopics.output)));
    const dead = placed.filter(({ record }) => letterOf(record.name) !== undefined).length;
    process.stderr.write(
      `fault corpus on Kafka: ${corpus.length} records tried, ${dead} dead-lettered, ${corpus.length - dead} processed, 0 crashes, max RSS ${Math.round(maxRss / 2 ** 20)} MiB\n`,
    );
  }, 600_000);

  function letterOf(name: string): FetchedMessage | undefined {
    const at = placed.find((p) => p.record.name === name)!;
    return letters.find(
      (letter) =>
        letter.headers[DEAD_LETTER_HEADERS.topic] === faulty.input &&
        letter.headers[DEAD_LETTER_HEADERS.partition] === String(at.partition) &&
        letter.headers[DEAD_LETTER_HEADERS.offset] === String(at.offset),
    );
  }

  it('ran to the end of the input in one run (no hang, no crash) with a bounded resident set', () => {
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(MAX_RSS_BYTES);
  });

  it.each(corpus.filter((r) => r.expect === 'dead-letter').map((r) => [r.name, r] as const))(
    'dead-letters %s with a short reason, as it arrived',
    (name, record) => {
      const letter = letterOf(name);
      expect(letter).toBeDefined();
      const reason = letter!.headers[DEAD_LETTER_HEADERS.reason] ?? '';
      expect(reason.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
      if (record.value !== null && record.value.length < 1024 * 1024) {
        // Whatever fits in the dead-letter topic is kept byte for byte, key included.
        // Buffer.equals: jest's deep equality takes seconds over a megabyte.
        expect(record.value.equals(letter!.value ?? Buffer.alloc(0))).toBe(true);
        expect(record.key === null ? letter!.key === null : record.key.equals(letter!.key ?? Buffer.alloc(0))).toBe(true);
        // The input's own headers too, byte for byte, beside the sluice.error.* ones.
        for (const [header, bytes] of Object.entries(record.headers)) expect(letter!.rawHeaders[header]).toEqual(bytes);
      } else if (record.value !== null) {
        expect(letter!.value!.length).toBeLessThan(record.value.length);
      }
    },
  );

  it.each(corpus.filter((r) => r.expect === 'processed').map((r) => [r.name] as const))('processes %s without a dead letter', (name) => {
    expect(letterOf(name)).toBeUndefined();
  });

  it('gives valid customers exactly the results of a run without the corpus', async () => {
    const results = latestValidResults(values(await readCommitted(brokers, faulty.output)));
    expect(results.length).toBeGreaterThan(CUSTOMERS * 6);
    expect(results).toEqual(cleanResults);
  });
});
