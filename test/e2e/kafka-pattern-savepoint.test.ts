// A CEP pattern job on the real Kafka: a savepoint taken at parallelism 1, restored on 3 pods, gives the same final results as an uninterrupted run.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { RuntimeStatus, StopResponse } from '@sluice/crds';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
// The generator is not part of the runtime's public surface; the tests use it as the engine does.
import { GeneratorSource } from '../../runtime-image/src/connectors/generator/source.js';
import {
  createTopics,
  endOffsets,
  kafka,
  multiset,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;
const token = 'test-token-of-this-run';

/**
 * Sign-ins of 100 users from their home addresses (4 % fail) and attacks from other addresses, partitioned by ip, 20 a
 * second of event time for 20 minutes: input A is the first 12 000 (up to 00:10), B the rest, so partial matches open at
 * the end of A complete in B. Up to 20 s out of order; 1 % arrive ten minutes late (the late output).
 */
const logins = {
  workload: 'logins',
  keyField: 'ip',
  seed: 11,
  count: 24_000,
  keys: 100,
  rate: 20,
  disorder: 20_000,
  lateFraction: 0.01,
  lateBy: 600_000,
  partitions: PARTITIONS,
} as const;
const SPLIT = 12_000;
/** Every record of B that is not late is at 00:10 − 20 s or later; every record of A before 00:10. */
const B_EARLIEST = '2025-12-05T00:09:40';
const B_START = '2025-12-05T00:10:00';

/** Produces the generated sign-ins with index in [from, to) to their partitions, then, if `end`, an end-of-input marker per partition. */
async function produceLogins(topic: string, from: number, to: number, end: boolean): Promise<void> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let index = 0;
    for await (const batch of new GeneratorSource(logins).read()) {
      const records = batch.records.filter(() => {
        index += 1;
        return index > from && index <= to;
      });
      if (records.length > 0)
        await producer.send({ topic, messages: records.map((r) => ({ partition: batch.partition, key: String(r.value.ip), value: JSON.stringify(r.value) })) });
    }
    if (end)
      await producer.send({
        topic,
        messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
      });
  } finally {
    await producer.disconnect();
  }
}

/** examples/failed-logins's pipeline (keyBy ip, then ≥ 3 failures followed by a success within 10 minutes) on the given topics. */
function patternJob(name: string, input: string): { file: string; output: string; late: string } {
  const example = parse(readFileSync(new URL('../../examples/failed-logins/job.yaml', import.meta.url), 'utf8')) as { spec: { pipeline: unknown[] } };
  const output = `${name}-alerts`;
  const late = `${name}-late`;
  const spec = {
    sources: [{ name: 'authentication', kafka: { topic: input, keyedBy: 'ip' }, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' } }],
    pipeline: example.spec.pipeline,
    sinks: [{ name: 'alerts', kafka: { topic: output, key: '{ip}' } }],
    lateOutput: { topic: late },
    deadLetter: { topic: `${name}-dead-letter` },
  };
  return { file: writeJobFile(name, spec), output, late };
}

describe('a pattern job on Kafka, rescaled through a savepoint', () => {
  afterAll(removeScratchDirs);

  it('restores a savepoint taken at parallelism 1 on 3 pods, with the same alerts and late records as an uninterrupted run', async () => {
    const input = uniqueName('authentication');
    await createTopics(brokers, [input], PARTITIONS);
    const base = { SLUICE_KAFKA_BROKERS: brokers.join(','), SLUICE_CONTROL_TOKEN: token, SLUICE_END_MARKERS: 'true' };

    // Input A, without an end: one pod reads all of it, then stops with a savepoint taken right there.
    await produceLogins(input, 0, SPLIT, false);
    const endOfA = await endOffsets(brokers, input);
    const rescaled = patternJob(uniqueName('logins-rescaled'), input);
    const env = { ...base, SLUICE_JOB_FILE: rescaled.file, SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints') };
    const first = startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state') });
    await first.waitForEvents('listening', 1);
    await eventually(
      'the pod at parallelism 1 to have read all of input A',
      async () => {
        const status = (await first.control('GET', '/status')) as RuntimeStatus;
        return status.partitions.length === PARTITIONS && status.partitions.every((p) => p.offset === endOfA.get(p.partition)) ? status : undefined;
      },
      120_000,
    );
    const stopped = (await first.control('POST', '/stop?savepoint=true')) as StopResponse;
    first.child.kill('SIGTERM');
    await first.exitsWith(0);
    expect(stopped.savepoint?.complete).toBe(true);

    // Input B and its end; the job goes on at parallelism 3 from the savepoint, each pod restoring its partition.
    await produceLogins(input, SPLIT, logins.count, true);
    const pods = [0, 1, 2].map((ordinal) =>
      startRuntime({
        ...env,
        SLUICE_STATE_DIR: scratchDir('state'),
        SLUICE_POD_ORDINAL: String(ordinal),
        SLUICE_PARALLELISM: '3',
        SLUICE_RESTORE_FROM: stopped.savepoint!.location,
      }),
    );
    for (const pod of pods) await pod.exitsWith(0);
    expect(pods.map((pod) => pod.events.find((e) => e.event === 'running')?.partitions)).toEqual([[0], [1], [2]]);
    expect(pods.map((pod) => pod.events.find((e) => e.event === 'running')?.restoredFromSavepoint)).toEqual([
      stopped.savepoint!.id,
      stopped.savepoint!.id,
      stopped.savepoint!.id,
    ]);

    // The same job, uninterrupted at parallelism 1, over the same topic.
    const uninterrupted = patternJob(uniqueName('logins-uninterrupted'), input);
    await startRuntime({ ...base, SLUICE_JOB_FILE: uninterrupted.file, SLUICE_STATE_DIR: scratchDir('state') }).exitsWith(0);

    const expected = multiset(await readCommitted(brokers, uninterrupted.output));
    expect(expected.length).toBeGreaterThan(20);
    expect(multiset(await readCommitted(brokers, rescaled.output))).toEqual(expected);
    // Some alerts began in A and ended in B: their partial matches were in the savepoint.
    const alerts = (await readCommitted(brokers, rescaled.output)).map(
      (m) => JSON.parse(m.value!.toString()) as { first_failure_at: string; signed_in_at: string },
    );
    expect(alerts.filter((a) => a.first_failure_at < B_EARLIEST && a.signed_in_at >= B_START).length).toBeGreaterThan(0);
    const expectedLate = multiset(await readCommitted(brokers, uninterrupted.late));
    expect(expectedLate.length).toBeGreaterThan(0);
    expect(multiset(await readCommitted(brokers, rescaled.late))).toEqual(expectedLate);
  }, 240_000);
});
