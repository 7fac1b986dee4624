// The runtime on the real Kafka rolled back to a savepoint (SLUICE_RESTORE_FROM): it resumes from the savepoint's offsets, watermarks and state.
import type { RuntimeStatus, StopResponse } from '@sluice/crds';
import type { FetchedMessage } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import {
  createTopics,
  endOffsets,
  multiset,
  produceGenerated,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeFraudJob,
} from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 3;
const token = 'test-token-of-this-run';

/** Ten minutes of event time each: B goes on where A stops, so the windows open at the end of A close in B. */
const inputA = {
  workload: 'transactions',
  seed: 7,
  count: 12_000,
  keys: 300,
  rate: 20,
  disorder: 20_000,
  lateFraction: 0.01,
  lateBy: 600_000,
  partitions: PARTITIONS,
  start: '2025-12-05T00:00:00Z',
} as const;
const inputB = { ...inputA, seed: 8, start: '2025-12-05T00:10:00Z' } as const;

/** The messages between two sets of end offsets of a topic. */
function between(messages: readonly FetchedMessage[], from: ReadonlyMap<number, number>, to: ReadonlyMap<number, number>): FetchedMessage[] {
  return messages.filter((m) => m.offset >= (from.get(m.partition) ?? 0) && m.offset < (to.get(m.partition) ?? 0));
}

describe('the runtime on Kafka, restored from a savepoint', () => {
  afterAll(removeScratchDirs);

  it('resumes from the savepoint’s offsets and state: its output equals that of the run that went on from the savepoint', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-rollback');
    const output = `${name}-features`;
    await createTopics(brokers, [input], PARTITIONS);
    const env = {
      SLUICE_JOB_FILE: writeFraudJob({ name, input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` }),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
      SLUICE_SNAPSHOT_LOCATION: scratchDir('savepoints'),
      SLUICE_CONTROL_TOKEN: token,
      SLUICE_END_MARKERS: 'true',
    };

    // Input A, without an end: the pod reads all of it, then stops with a savepoint taken right there.
    expect(await produceGenerated(brokers, input, inputA, [], false)).toBe(inputA.count);
    const endOfA = await endOffsets(brokers, input);
    const first = startRuntime(env);
    await first.waitForEvents('listening', 1);
    await eventually(
      'the first pod to have read all of input A',
      async () => {
        const status = (await first.control('GET', '/status')) as RuntimeStatus;
        return status.partitions.length === PARTITIONS && status.partitions.every((p) => p.offset === endOfA.get(p.partition)) ? status : undefined;
      },
      120_000,
    );
    const stopped = (await first.control('POST', '/stop?savepoint=true')) as StopResponse;
    // A stopped pod stays up until it is ended, as the kubelet ends it.
    first.child.kill('SIGTERM');
    await first.exitsWith(0);
    expect(stopped.savepoint?.complete).toBe(true);
    const atSavepoint = await endOffsets(brokers, output);

    // Input B and its end: the job goes on from its last commit, which is the savepoint's point.
    expect(await produceGenerated(brokers, input, inputB)).toBe(inputB.count);
    await startRuntime(env).exitsWith(0);
    const afterContinued = await endOffsets(brokers, output);

    // Rolled back to the savepoint: the same input from the savepoint's offsets, on the savepoint's state.
    const restored = startRuntime({ ...env, SLUICE_RESTORE_FROM: stopped.savepoint!.location });
    await restored.exitsWith(0);
    expect(restored.events.find((e) => e.event === 'running')?.restoredFromSavepoint).toBe(stopped.savepoint!.id);
    const afterRestored = await endOffsets(brokers, output);

    // A restart that still has SLUICE_RESTORE_FROM set does not roll back again: its commits say it was done.
    const again = startRuntime({ ...env, SLUICE_RESTORE_FROM: stopped.savepoint!.location });
    await again.exitsWith(0);
    expect(again.events.find((e) => e.event === 'running')?.restoredFromSavepoint).toBeNull();

    const messages = await readCommitted(brokers, output);
    const continued = multiset(between(messages, atSavepoint, afterContinued));
    expect(continued.length).toBeGreaterThan(100);
    expect(multiset(between(messages, afterContinued, afterRestored))).toEqual(continued);
    expect(between(messages, afterRestored, new Map([...afterRestored.keys()].map((p) => [p, Number.MAX_SAFE_INTEGER])))).toEqual([]);
  });
});
