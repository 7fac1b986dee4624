// The runtime on the real Kafka: input it cannot read goes to the dead-letter topic with the reason in headers, and the job goes on.
import { DEAD_LETTER_HEADERS } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { createTopics, produceGenerated, readCommitted, startRuntime, uniqueName, writeFraudJob, removeScratchDirs, scratchDir } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

describe('dead letters of the runtime on Kafka', () => {
  afterAll(removeScratchDirs);

  it('sends a malformed record to the dead-letter topic with the reason and its origin in headers, and goes on', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-dlq');
    await createTopics(brokers, [input], 2);
    const malformed = ['{"customer_id": "c1", "amount": 12', '[1, 2, 3]', JSON.stringify({ customer_id: 'c2', amount: 5 })];
    const produced = await produceGenerated(brokers, input, { workload: 'transactions', seed: 3, count: 500, keys: 50, partitions: 2 }, malformed);
    const topics = { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    const runtime = startRuntime({
      SLUICE_JOB_FILE: writeFraudJob(topics),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_END_MARKERS: 'true',
    });
    await runtime.exitsWith(0);

    const letters = await readCommitted(brokers, topics.deadLetter);
    const byValue = new Map(letters.map((letter) => [letter.value?.toString(), letter.headers]));
    expect([...byValue.keys()].sort()).toEqual([...malformed].sort());
    const notJson = byValue.get(malformed[0])!;
    expect(notJson[DEAD_LETTER_HEADERS.reason]).toMatch(/not JSON/);
    expect(notJson[DEAD_LETTER_HEADERS.topic]).toBe(input);
    expect(notJson[DEAD_LETTER_HEADERS.partition]).toBe('0');
    expect(Number(notJson[DEAD_LETTER_HEADERS.offset])).toBeGreaterThanOrEqual(0);
    expect(byValue.get(malformed[1])![DEAD_LETTER_HEADERS.reason]).toMatch(/an array, not a JSON object/);
    expect(byValue.get(malformed[2])![DEAD_LETTER_HEADERS.reason]).toMatch(/timestamp/);

    // The job went on: every good record was counted into a window result.
    const results = (await readCommitted(brokers, topics.output)).map(
      (m) => JSON.parse(m.value!.toString()) as { txn_count: number; window_start: string; customer_id: string },
    );
    const latest = new Map<string, number>();
    for (const r of results) latest.set(`${r.customer_id} ${r.window_start}`, r.txn_count);
    expect([...latest.values()].reduce((a, b) => a + b, 0)).toBe(produced);
  });
});
