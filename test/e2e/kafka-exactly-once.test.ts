// The runtime on the real Kafka: kill -9 in the middle of a run loses and duplicates nothing for read_committed readers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEndpoints } from '../env/src/endpoints.js';
import { createTopics, kafka, multiset, produceGenerated, readCommitted, startRuntime, uniqueName, writeFraudJob, type FraudJobTopics } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;

/**
 * Input for many commit intervals: produced in small batches and fetched one batch at a time, so the
 * run takes dozens of transactions. 20 events/s of event time over 30 000 events: 25 minutes, five
 * windows per customer; 1 % arrive 10 minutes late (the late output).
 */
const workload = { workload: 'transactions', seed: 7, count: 30_000, batchSize: 100, keys: 300, rate: 20, disorder: 20_000, lateFraction: 0.01, lateBy: 600_000, partitions: PARTITIONS } as const;

function jobTopics(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

function runtimeEnv(jobFile: string): Record<string, string> {
  return {
    SLUICE_JOB_FILE: jobFile,
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: mkdtempSync(join(tmpdir(), 'sluice-e2e-state-')),
    SLUICE_END_MARKERS: 'true',
    SLUICE_MAX_BYTES_PER_PARTITION: '1024',
  };
}

describe('the runtime on Kafka, exactly once', () => {
  const input = uniqueName('txn');
  let produced = 0;

  beforeAll(async () => {
    const admin = kafka(brokers).admin();
    await admin.connect();
    try {
      await createTopics(admin, [input], PARTITIONS);
    } finally {
      await admin.disconnect();
    }
    produced = await produceGenerated(brokers, input, workload);
  });

  it('gives the same read_committed output after kill -9 in the middle and a restart as an uninterrupted run', async () => {
    const clean = jobTopics(input, uniqueName('fraud-clean'));
    const uninterrupted = startRuntime(runtimeEnv(writeFraudJob(clean)));
    await uninterrupted.exitsWith(0);
    const expected = multiset(await readCommitted(brokers, clean.output));
    const expectedLate = multiset(await readCommitted(brokers, clean.late));
    expect(expected.length).toBeGreaterThan(100);
    expect(expectedLate.length).toBeGreaterThan(0);

    const crashed = jobTopics(input, uniqueName('fraud-crash'));
    const env = runtimeEnv(writeFraudJob(crashed));
    const first = startRuntime(env);
    // Killed after a few transactions, while more input is waiting: the kill lands between or inside commits.
    await first.waitForEvents('committed', 3);
    first.child.kill('SIGKILL');
    await first.exitsWith(null);
    const partial = await readCommitted(brokers, crashed.output);
    expect(partial.length).toBeLessThan(expected.length);

    const second = startRuntime(env);
    await second.exitsWith(0);
    // The restart rebuilt the windows' state from the changelog the killed run committed.
    expect(second.events.find((e) => e.event === 'running')?.restoredRecords).toBeGreaterThan(0);
    expect(multiset(await readCommitted(brokers, crashed.output))).toEqual(expected);
    expect(multiset(await readCommitted(brokers, crashed.late))).toEqual(expectedLate);
    const finished = second.events.find((e) => e.event === 'finished');
    expect(finished).toBeDefined();
    expect(produced).toBe(workload.count);
  });
});
