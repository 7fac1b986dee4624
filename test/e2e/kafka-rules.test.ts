// A runtime pod on the real Kafka with data-quality rules: records that break them land in the dead-letter topic as they arrived, the rules named, and counted by rule in the metrics.
import { DEAD_LETTER_HEADERS } from '@sluice/runtime';
import { readConfig } from '../../runtime-image/src/process/config.js';
import { Runtime } from '../../runtime-image/src/process/runtime.js';
import { readEndpoints } from '../env/src/endpoints.js';
import { createTopics, fraudJobSpec, produceGenerated, readCommitted, removeScratchDirs, scratchDir, uniqueName, writeJobFile } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

const RULES = [
  { name: 'has-customer', field: 'customer_id', required: true },
  { name: 'amount-positive', field: 'amount', min: 0 },
  { name: 'amount-sane', cel: 'amount < 100000.0' },
  { name: 'has-timestamp', field: 'timestamp', required: true },
];

/** Runs one runtime pod in-process over the job until the end of its input; returns the pod's metrics as scraped at the end. */
async function runPod(name: string, spec: Record<string, unknown>): Promise<string> {
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

/** The sum of the final txn_count of every window: each record counted into a result once. */
async function countedIntoResults(topic: string): Promise<number> {
  const results = (await readCommitted(brokers, topic)).map(
    (m) => JSON.parse(m.value!.toString()) as { txn_count: number; window_start: string; customer_id: string },
  );
  const latest = new Map<string, number>();
  for (const r of results) latest.set(`${r.customer_id} ${r.window_start}`, r.txn_count);
  return [...latest.values()].reduce((a, b) => a + b, 0);
}

describe('data-quality rules in a runtime pod on Kafka', () => {
  afterAll(removeScratchDirs);

  it('sends each record that breaks a rule to the dead-letter topic with the rules named, counts it by rule, and counts the rest', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-rules');
    await createTopics(brokers, [input], 2);
    const at = '2025-12-05T00:00:30.000Z';
    const planted = [
      JSON.stringify({ transaction_id: 'bad-1', amount: 12.5, timestamp: at }),
      JSON.stringify({ transaction_id: 'bad-2', customer_id: 'c1', amount: -40, timestamp: at }),
      JSON.stringify({ transaction_id: 'bad-3', customer_id: 'c2', amount: 250_000, timestamp: at }),
      JSON.stringify({ transaction_id: 'bad-4', amount: -1, timestamp: at }),
    ];
    const produced = await produceGenerated(brokers, input, { workload: 'transactions', seed: 5, count: 400, keys: 40, partitions: 2 }, planted);
    const topics = { input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    const spec = fraudJobSpec(topics);
    (spec.sources as Record<string, unknown>[])[0]!.rules = RULES;
    const metrics = await runPod(name, spec);

    const letters = await readCommitted(brokers, topics.deadLetter);
    const byValue = new Map(letters.map((letter) => [letter.value?.toString(), letter.headers]));
    // Exactly the planted records, byte for byte as they arrived.
    expect([...byValue.keys()].sort()).toEqual([...planted].sort());
    const reason = (i: number): string | undefined => byValue.get(planted[i])?.[DEAD_LETTER_HEADERS.reason];
    expect(reason(0)).toMatch(/^source transactions: the record breaks rule has-customer: customer_id is missing; fix/);
    expect(reason(1)).toContain('rule amount-positive: amount is -40, below the minimum 0');
    expect(reason(2)).toContain('rule amount-sane: "amount < 100000.0" is false');
    expect(reason(3)).toContain('rule has-customer: customer_id is missing; rule amount-positive: amount is -1, below the minimum 0');
    expect(byValue.get(planted[0])?.[DEAD_LETTER_HEADERS.topic]).toBe(input);

    // Counted by rule, one per rule a record broke, a rule never broken at 0; no values in the labels.
    const counted = (rule: string): number | undefined => {
      const line = new RegExp(`^sluice_rule_violations_total\\{source="transactions",rule="${rule}",job="${name}"\\} (\\d+)$`, 'm').exec(metrics);
      return line === null ? undefined : Number(line[1]);
    };
    expect(RULES.map((rule) => counted(rule.name))).toEqual([2, 2, 1, 0]);
    expect(metrics).toMatch(new RegExp(`sluice_dead_lettered_records_total\\{partition="0",job="${name}"\\} 4`));

    // The job went on: every generated transaction (all keep the rules) was counted into a window result.
    expect(await countedIntoResults(topics.output)).toBe(produced);
  });

  it('checks a repartitioned job once, as records leave the source, not again on what a map step made of them', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-rules-repartitioned');
    await createTopics(brokers, [input], 2);
    const planted = [JSON.stringify({ transaction_id: 'bad-1', customer_id: 'c1', amount: 3, timestamp: '2025-12-05T00:00:30.000Z' })];
    const produced = await produceGenerated(brokers, input, { workload: 'transactions', seed: 6, count: 300, keys: 30, partitions: 2 }, planted);
    const topics = { input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    // The map drops merchant_id before the keyBy, which is not the topic's key: the keyBy's stage reads records without it.
    const spec = fraudJobSpec(topics, [{ map: { fields: { customer_id: 'customer_id', amount: 'amount' } } }]);
    const source = (spec.sources as Record<string, unknown>[])[0]!;
    (source.kafka as Record<string, unknown>).keyedBy = 'merchant_id';
    source.rules = [{ name: 'has-merchant', field: 'merchant_id', required: true }];
    const metrics = await runPod(name, spec);

    const letters = await readCommitted(brokers, topics.deadLetter);
    expect(letters.map((letter) => letter.value?.toString())).toEqual(planted);
    expect(letters[0]!.headers[DEAD_LETTER_HEADERS.reason]).toContain('rule has-merchant: merchant_id is missing');
    expect(metrics).toMatch(new RegExp(`^sluice_rule_violations_total\\{source="transactions",rule="has-merchant",job="${name}"\\} 1$`, 'm'));
    expect(await countedIntoResults(topics.output)).toBe(produced);
  });
});
