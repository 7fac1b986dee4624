// Runtime processes on the real Kafka and S3 driven as the StreamJob controller upgrades a job: stopped pods that stay up, a shared savepoint on S3, a stateless restart.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { RuntimeStatus, StopResponse } from '@sluice/crds';
import { END_OF_INPUT_HEADER, deleteSnapshot, openSnapshotStorage, readSnapshotAt, type S3Settings } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import {
  createTopics,
  kafka,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeFraudJob,
  type RuntimeProcess,
} from './kafka/harness.js';

const endpoints = readEndpoints();
const brokers = endpoints.kafka.brokers;
const s3 = endpoints.s3;
const s3Settings: S3Settings = {
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: s3.forcePathStyle,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
};
const s3Client = new S3Client({ ...s3Settings });
const bucket = `upgrades-${randomBytes(4).toString('hex')}`;
const token = 'test-token-of-this-run';
const PARTITIONS = 2;
const at = (seconds: number): string => new Date(Date.parse('2025-12-05T00:00:00Z') + seconds * 1000).toISOString();

/**
 * Input A: 80 transactions of c0–c3 (20 each, amount 1) in the first 80 s; B: 60 of c0–c2 (20 each, amount 10) in
 * the next 60 s. One 5-minute window holds both. Keyed as a producer would: c0 and c2 in partition 0, c1 and c3 in 1.
 */
const inputA = Array.from({ length: 80 }, (_, i) => ({ customer_id: `c${i % 4}`, amount: 1, timestamp: at(i) }));
const inputB = Array.from({ length: 60 }, (_, i) => ({ customer_id: `c${i % 3}`, amount: 10, timestamp: at(80 + i) }));

const partitionOf = (customer: string): number => Number(customer.slice(1)) % PARTITIONS;

/** Where each partition ends after the transactions given. */
const endsAfter = (...inputs: (readonly { customer_id: string }[])[]): number[] =>
  Array.from({ length: PARTITIONS }, (_, partition) => inputs.flat().filter((t) => partitionOf(t.customer_id) === partition).length);

async function produce(topic: string, transactions: readonly { customer_id: string }[], endOfInput = false): Promise<void> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    const messages = transactions.map((value) => ({ partition: partitionOf(value.customer_id), value: JSON.stringify(value) }));
    if (endOfInput)
      messages.push(
        ...Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: null as unknown as string, headers: { [END_OF_INPUT_HEADER]: 'true' } })),
      );
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Waits until the pod has read each of its partitions up to its end (`ends` by partition). */
async function readUpTo(pod: RuntimeProcess, ends: readonly number[]): Promise<void> {
  await pod.waitForEvents('listening', 1);
  await eventually(
    `the pod to have read up to offsets ${ends.join(', ')}`,
    async () => {
      const status = (await pod.request('GET', '/status')).body as RuntimeStatus;
      return status.partitions.length > 0 && status.partitions.every((p) => p.offset === ends[p.partition]) ? status : undefined;
    },
    60_000,
  );
}

/** Stops the pod the way the controller does and checks it stays up, stopped, until it is ended. */
async function stopAndEnd(pod: RuntimeProcess, query: string): Promise<StopResponse> {
  const stop = await pod.request('POST', `/stop${query}`);
  expect(stop.status).toBe(200);
  await pod.waitForEvents('stopped', 1);
  expect((await pod.request('GET', '/healthz')).status).toBe(200);
  expect((await pod.request('GET', '/readyz')).status).toBe(503);
  const answer = stop.body as StopResponse;
  expect(((await pod.request('GET', '/status')).body as RuntimeStatus).phase).toBe('finished');
  expect(await pod.request('POST', `/stop${query}`)).toEqual({ status: 200, body: answer });
  expect(pod.child.exitCode).toBeNull();
  pod.child.kill('SIGTERM');
  await pod.exitsWith(0);
  return answer;
}

/** The last result per customer of the output topic: count and sum of its one window. */
async function results(topic: string): Promise<Record<string, [number, number]>> {
  const latest: Record<string, [number, number]> = {};
  for (const message of await readCommitted(brokers, topic)) {
    const { customer_id, txn_count, txn_sum } = JSON.parse(message.value!.toString()) as { customer_id: string; txn_count: number; txn_sum: number };
    latest[customer_id] = [txn_count, txn_sum];
  }
  return latest;
}

async function jobOnNewTopics(prefix: string): Promise<{ input: string; output: string; env: Record<string, string> }> {
  const name = uniqueName(prefix);
  const input = `${name}-txn`;
  const output = `${name}-features`;
  await createTopics(brokers, [input], PARTITIONS);
  const env = {
    SLUICE_JOB_FILE: writeFraudJob({ name, input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` }),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_CONTROL_TOKEN: token,
    SLUICE_SNAPSHOT_LOCATION: scratchDir('checkpoints'),
  };
  return { input, output, env };
}

beforeAll(async () => {
  await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  const storage = openSnapshotStorage(`s3://${bucket}`, { s3: s3Settings });
  await storage.deleteAll('');
  storage.close();
  await s3Client.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3Client.destroy();
  removeScratchDirs();
});

describe('the runtime through an upgrade', () => {
  it('starts a stateless upgrade from the committed offsets with empty state, once: the discarded state does not come back after a restart', async () => {
    const { input, output, env } = await jobOnNewTopics('fraud-stateless');
    const state = scratchDir('state');

    await produce(input, inputA);
    const old = startRuntime({ ...env, SLUICE_STATE_DIR: state });
    await readUpTo(old, endsAfter(inputA));
    expect(await stopAndEnd(old, '')).toEqual({ stopped: true, savepoint: null });

    // The new spec's pod, SLUICE_DISCARD_STATE set: it reads B on from A's committed offsets, on empty state.
    await produce(input, inputB);
    const upgraded = startRuntime({ ...env, SLUICE_STATE_DIR: state, SLUICE_DISCARD_STATE: 'generation-2' });
    await readUpTo(upgraded, endsAfter(inputA, inputB));
    expect(upgraded.events.find((e) => e.event === 'running')).toMatchObject({ discardedState: 'generation-2', restoredFromSavepoint: null });
    await stopAndEnd(upgraded, '');

    // A restart of that pod (the variable still set, a fresh disk) restores B's state from the changelog and discards nothing.
    await produce(input, [], true);
    const restarted = startRuntime({ ...env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_DISCARD_STATE: 'generation-2', SLUICE_END_MARKERS: 'true' });
    await restarted.exitsWith(0);
    expect(restarted.events.find((e) => e.event === 'running')).toMatchObject({ discardedState: null });

    // Only B counts: c3, which only A had, is gone for good (its state was deleted in the changelog too).
    expect(await results(output)).toEqual({ c0: [20, 200], c1: [20, 200], c2: [20, 200] });
  });

  it('stops two pods with one savepoint on S3 (settings from the environment) and restores it at parallelism 1; the savepoint is then deleted by its location', async () => {
    const { input, output, env } = await jobOnNewTopics('fraud-savepoint');
    const s3Env = {
      SLUICE_SAVEPOINT_LOCATION: `s3://${bucket}/savepoints`,
      SLUICE_S3_ENDPOINT: s3.endpoint,
      SLUICE_S3_REGION: s3.region,
      SLUICE_S3_FORCE_PATH_STYLE: String(s3.forcePathStyle),
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };

    await produce(input, inputA);
    const pods = [0, 1].map((ordinal) =>
      startRuntime({ ...env, ...s3Env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_POD_ORDINAL: String(ordinal), SLUICE_PARALLELISM: '2' }),
    );
    for (const pod of pods) await readUpTo(pod, endsAfter(inputA));
    const answers: StopResponse[] = [];
    for (const pod of pods) answers.push(await stopAndEnd(pod, '?savepoint=true&id=upgrade-1'));
    const location = `s3://${bucket}/savepoints/upgrade-1`;
    expect(answers.map((a) => a.savepoint)).toEqual([
      { id: 'upgrade-1', location, complete: false },
      { id: 'upgrade-1', location, complete: true },
    ]);
    expect((await readSnapshotAt(location, { s3: s3Settings }))?.partitions.map((p) => [p.partition, p.sourceOffset])).toEqual(
      endsAfter(inputA).map((end, partition) => [partition, end]),
    );

    // The rescaled job: one pod, restored from the savepoint on S3, reads B and ends.
    await produce(input, inputB, true);
    const rescaled = startRuntime({ ...env, ...s3Env, SLUICE_STATE_DIR: scratchDir('state'), SLUICE_RESTORE_FROM: location, SLUICE_END_MARKERS: 'true' });
    await rescaled.exitsWith(0);
    expect(rescaled.events.find((e) => e.event === 'running')).toMatchObject({ restoredFromSavepoint: 'upgrade-1', partitions: [0, 1] });
    expect(await results(output)).toEqual({ c0: [40, 220], c1: [40, 220], c2: [40, 220], c3: [20, 20] });

    await deleteSnapshot(location, { s3: s3Settings });
    expect(await readSnapshotAt(location, { s3: s3Settings })).toBeUndefined();
  });
});
