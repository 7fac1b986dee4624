// A runtime pod refuses a job whose keyBy is not how its topic is keyed (it would aggregate each partition's share of a key apart), and writes nothing.
import { readEndpoints } from '../env/src/endpoints.js';
import { createTopics, fraudJobSpec, produceGenerated, readCommitted, removeScratchDirs, scratchDir, startRuntime, uniqueName, writeJobFile } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

describe('a runtime pod and a job that needs a repartition stage', () => {
  afterAll(removeScratchDirs);

  it('exits at start with the keyBy, the source and the fix, before reading or writing a record', async () => {
    const name = uniqueName('repartition-refused');
    const topics = { name, input: `${name}-in`, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
    await createTopics(brokers, [topics.input, topics.output], 2);
    // Partitioned by merchant: a customer's transactions sit in both partitions.
    await produceGenerated(brokers, topics.input, { workload: 'transactions', seed: 3, count: 200, keys: 20, partitions: 2, keyField: 'merchant_id' });
    const spec = fraudJobSpec(topics) as { sources: { kafka: Record<string, unknown> }[] };
    spec.sources[0]!.kafka.keyedBy = 'merchant_id';
    const runtime = startRuntime({ SLUICE_JOB_FILE: writeJobFile(name, spec), SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_STATE_DIR: scratchDir('state'), SLUICE_END_MARKERS: 'true' });
    await runtime.exitsWith(1);
    const failed = runtime.events.find((event) => event.event === 'failed');
    expect(failed?.error).toMatch(
      new RegExp(`^job ${name} cannot start: spec\\.pipeline\\[0\\]\\.keyBy: keys by customer_id, but source transactions \\(Kafka topic ${topics.input}\\) is keyed by merchant_id`),
    );
    expect(failed?.error).toMatch(/set spec\.sources\[0\]\.kafka\.keyedBy: "customer_id"; otherwise produce the topic keyed by customer_id/);
    expect(await readCommitted(brokers, topics.output)).toEqual([]);
  }, 60_000);
});
