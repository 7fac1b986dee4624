// A runtime pod on the real Kafka with a score step calling the deterministic fraud model: every transaction scored once into its window, failed calls dead-lettered with the reason, calls counted in the metrics.
import { DEAD_LETTER_HEADERS, fraudScore, type ModelServer, startModelServer } from '@sluice/runtime';
import { readConfig } from '../../runtime-image/src/process/config.js';
import { Runtime } from '../../runtime-image/src/process/runtime.js';
import { readEndpoints } from '../env/src/endpoints.js';
import {
  createTopics,
  fraudJobSpec,
  killAfterCommits,
  multiset,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const WINDOW = 5 * 60_000;

type Row = Record<string, unknown>;

/** Runs one runtime pod in-process over the job until the end of its input; returns the pod's metrics as scraped at the end. */
async function runPod(name: string, spec: Row): Promise<string> {
  const config = readConfig({
    SLUICE_JOB_FILE: writeJobFile(name, spec),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_POD_ORDINAL: '0',
    SLUICE_PARALLELISM: '1',
    SLUICE_END_MARKERS: 'true',
  });
  const runtime = await Runtime.open(config);
  try {
    await runtime.start();
    await runtime.taskSet.done;
    return await runtime.metrics.registry.metrics();
  } finally {
    await runtime.close();
  }
}

/** The fraud job with the score step in front of its keyBy, and the highest score of each window beside its count. */
function scoredFraudJob(topics: { input: string; output: string; late: string; deadLetter: string }, score: Row): Row {
  const spec = fraudJobSpec(topics, [{ id: 'fraud-model', score: { fields: { fraud_score: 'score' }, ...score } }]);
  const window = (spec.pipeline as Row[]).at(-1)!;
  (window.aggregate as Row[]).push({ name: 'max_score', fn: 'max', field: 'fraud_score' });
  return spec;
}

/** The final result of each customer and window, by `customer window_start`. */
async function finalResults(topic: string): Promise<Map<string, Row>> {
  const latest = new Map<string, Row>();
  for (const message of await readCommitted(brokers, topic)) {
    const result = JSON.parse(message.value!.toString()) as Row;
    latest.set(`${String(result.customer_id)} ${String(result.window_start)}`, result);
  }
  return latest;
}

let model: ModelServer | undefined;

describe('the score step in a runtime pod on Kafka', () => {
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });
  afterAll(removeScratchDirs);

  it('scores every transaction once, in micro-batches, into its window on time: each window’s count and highest score are the input’s', async () => {
    model = await startModelServer({ delay: (body) => ((body as Row[]).length % 3) * 5 });
    const input = uniqueName('txn');
    const name = uniqueName('fraud-score');
    await createTopics(brokers, [input], 2);
    const produced = await produceGenerated(brokers, input, { workload: 'transactions', seed: 11, count: 600, keys: 30, partitions: 2 });
    const topics = { input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    const metrics = await runPod(name, scoredFraudJob(topics, { url: model.url, batchSize: 8, concurrency: 3, queueSize: 16 }));

    const expected = new Map<string, { count: number; max: number }>();
    for (const message of await readCommitted(brokers, input)) {
      if (message.value === null) continue;
      const transaction = JSON.parse(message.value.toString()) as { customer_id: string; amount: number; timestamp: string };
      const start = new Date(Math.floor(Date.parse(transaction.timestamp) / WINDOW) * WINDOW).toISOString();
      const key = `${transaction.customer_id} ${start}`;
      const window = expected.get(key) ?? { count: 0, max: 0 };
      expected.set(key, { count: window.count + 1, max: Math.max(window.max, fraudScore(transaction.amount)) });
    }
    const results = await finalResults(topics.output);
    expect(new Map([...results].map(([key, result]) => [key, { count: result.txn_count, max: result.max_score }]))).toEqual(expected);
    expect([...expected.values()].reduce((sum, { count }) => sum + count, 0)).toBe(produced);
    expect(await readCommitted(brokers, topics.late)).toEqual([]);
    // Batched: fewer calls than transactions, each at most 8, every transaction sent once (no crash, so no replay).
    expect(model.calls.flat()).toHaveLength(produced);
    expect(model.calls.every((call) => Array.isArray(call) && call.length <= 8)).toBe(true);
    expect(metrics).toMatch(new RegExp(`^sluice_score_records_total\\{step="fraud-model",outcome="ok",job="${name}"\\} ${produced}$`, 'm'));
  });

  it('dead-letters the transactions the model refuses, as they arrived and with the reason, and counts the rest into their windows', async () => {
    model = await startModelServer({ fail: (body) => ((body as Row).amount === 13.13 ? { status: 400, body: 'amount 13.13 is not allowed' } : undefined) });
    const input = uniqueName('txn');
    const name = uniqueName('fraud-score-fail');
    await createTopics(brokers, [input], 2);
    const at = '2025-12-05T00:00:30.000Z';
    const planted = [
      JSON.stringify({ transaction_id: 'refused-1', customer_id: 'c1', amount: 13.13, timestamp: at }),
      JSON.stringify({ transaction_id: 'refused-2', customer_id: 'c2', amount: 13.13, timestamp: at }),
    ];
    const produced = await produceGenerated(brokers, input, { workload: 'transactions', seed: 12, count: 200, keys: 20, partitions: 2 }, planted);
    const topics = { input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    const metrics = await runPod(name, scoredFraudJob(topics, { url: model.url, retries: 1, retryBackoff: '1ms' }));

    const letters = await readCommitted(brokers, topics.deadLetter);
    expect(letters.map((letter) => JSON.parse(letter.value!.toString()) as Row)).toEqual(planted.map((value) => JSON.parse(value) as Row));
    expect(letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toBe(`fraud-model: score call to ${model.url} failed: HTTP 400: "amount 13.13 is not allowed"`);
    const counted = [...(await finalResults(topics.output)).values()].reduce((sum, result) => sum + (result.txn_count as number), 0);
    expect(counted).toBe(produced);
    expect(metrics).toMatch(new RegExp(`^sluice_score_calls_total\\{step="fraud-model",outcome="failed",job="${name}"\\} 2$`, 'm'));
  });

  it('gives the same read_committed output after kill -9 in the middle, twice, as an uninterrupted run, though replayed records are scored again', async () => {
    model = await startModelServer({ delay: () => 2 });
    const input = uniqueName('txn');
    await createTopics(brokers, [input], 2);
    const workload = { workload: 'transactions', seed: 13, count: 3000, batchSize: 100, keys: 100, rate: 20, partitions: 2 } as const;
    const produced = await produceGenerated(brokers, input, workload);
    const runPodProcess = (name: string) => {
      const topics = { input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
      const env = {
        SLUICE_JOB_FILE: writeJobFile(name, scoredFraudJob(topics, { url: model!.url, batchSize: 10, concurrency: 2 })),
        SLUICE_KAFKA_BROKERS: brokers.join(','),
        SLUICE_STATE_DIR: scratchDir('state'),
        SLUICE_END_MARKERS: 'true',
        SLUICE_MAX_BYTES_PER_PARTITION: '1024',
      };
      return { topics, env };
    };
    const clean = runPodProcess(uniqueName('fraud-score-clean'));
    await startRuntime(clean.env).exitsWith(0);
    expect(model.calls.flat()).toHaveLength(produced);
    const expected = multiset(await readCommitted(brokers, clean.topics.output));

    const crashed = runPodProcess(uniqueName('fraud-score-crash'));
    await killAfterCommits(crashed.env, [3, 5]);
    await startRuntime(crashed.env).exitsWith(0);
    expect(multiset(await readCommitted(brokers, crashed.topics.output))).toEqual(expected);
    expect(await readCommitted(brokers, crashed.topics.deadLetter)).toEqual([]);
    // Five runs of a pod process on a shared machine: more than the default minute.
  }, 300_000);
});
