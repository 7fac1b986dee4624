// The runtime pod's HTTP surface on a real runtime over the real Kafka: health, readiness, metrics, and the token-protected control API.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeStatus, SavepointResponse, StopResponse } from '@sluice/crds';
import { KafkajsClient } from '@sluice/runtime';
import { readConfig } from '../../runtime-image/src/process/config.js';
import { Runtime } from '../../runtime-image/src/process/runtime.js';
import { buildServer } from '../../runtime-image/src/process/server.js';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { fraudPodEnv, kafka, produceTransactions, uniqueName, writeFraudJob, removeScratchDirs, scratchDir } from './kafka/harness.js';

const brokers = readEndpoints().kafka.brokers;

/** `count` transactions on 2 partitions in sends of 50, so each is a record batch of its own, which a small fetch takes one at a time. */
async function produceInSmallBatches(topic: string, count: number): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    for (let first = 0; first < count; first += 100) {
      const at = (i: number): string => new Date(Date.parse('2025-12-05T00:00:00Z') + i * 1000).toISOString();
      await producer.sendBatch({
        topicMessages: [0, 1].map((partition) => ({
          topic,
          messages: Array.from({ length: 50 }, (_, k) => first + 2 * k + partition).map((i) => ({
            partition,
            value: JSON.stringify({ customer_id: `c${i % 7}`, amount: i, timestamp: at(i) }),
          })),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
const token = 'test-token-of-this-run';
const auth = { authorization: `Bearer ${token}` };

describe('the runtime pod’s HTTP surface', () => {
  afterAll(removeScratchDirs);

  it('reports health, readiness, metrics and status, takes a savepoint and stops with one', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-control');
    await produceTransactions(brokers, input, { count: 200, partitions: 2, customers: 7 });

    const snapshots = scratchDir('savepoints');
    const config = readConfig(fraudPodEnv(brokers, { name, input }, { SLUICE_CONTROL_TOKEN: token, SLUICE_SNAPSHOT_LOCATION: snapshots }));
    const runtime = await Runtime.open(config);
    const app = buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken });
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      await runtime.start();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

      const denied = await app.inject({ method: 'GET', url: '/status', headers: { authorization: 'Bearer wrong' } });
      expect(denied.statusCode).toBe(401);
      expect(denied.json()).toMatchObject({ code: 'SLUICE_E_UNAUTHORIZED' });
      expect((await app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(401);

      const status = await eventually('all 200 records read', async () => {
        const answer = (await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>();
        return answer.recordsIn === 200 ? answer : undefined;
      });
      expect(status).toMatchObject({ job: name, ordinal: 0, parallelism: 1, phase: 'running', lastSavepoint: null });
      expect(status.partitions.map((p) => [p.partition, p.offset, p.lag])).toEqual([
        [0, 100, 0],
        [1, 100, 0],
      ]);

      // Operators' counts reach the metrics with the next commit.
      const metrics = await eventually('the window operator counted in the metrics', async () => {
        const answer = await app.inject({ method: 'GET', url: '/metrics' });
        return /sluice_records_in_total\{operator="window[^"]*",partition="1",job="[^"]+"\} 100/.test(answer.body) ? answer : undefined;
      });
      expect(metrics.body).toMatch(new RegExp(`sluice_records_in_total\\{operator="source",partition="0",job="${name}"\\} 100`));
      expect(metrics.body).toContain('sluice_event_to_output_latency_seconds_bucket');
      expect(metrics.body).toMatch(new RegExp(`sluice_consumer_lag_records\\{partition="1",job="${name}"\\} 0`));

      const taken = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: {} });
      expect(taken.statusCode).toBe(201);
      const savepoint = taken.json<SavepointResponse>();
      expect(savepoint.complete).toBe(true);
      const manifest = JSON.parse(readFileSync(join(snapshots, savepoint.id, 'manifest.json'), 'utf8')) as {
        kind: string;
        partitions: { partition: number; sourceOffset: number }[];
      };
      expect(manifest.kind).toBe('savepoint');
      expect(manifest.partitions.map((p) => [p.partition, p.sourceOffset])).toEqual([
        [0, 100],
        [1, 100],
      ]);
      expect((await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: { id: '../escape' } })).statusCode).toBe(400);

      const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true', headers: auth });
      expect(stop.statusCode).toBe(200);
      const answer = stop.json<StopResponse>();
      expect(answer.stopped).toBe(true);
      expect(answer.savepoint?.complete).toBe(true);
      await runtime.taskSet.done;
      expect(runtime.taskSet.phase).toBe('finished');

      // Stopped, the pod answers on (a StatefulSet would restart an exited one on the old spec): alive, not ready, finished.
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>()).toMatchObject({
        phase: 'finished',
        lastSavepoint: answer.savepoint?.location,
        recordsIn: 200,
      });
      // A controller that crashed asks again: the same answer. Anything else it cannot have any more.
      const retried = await app.inject({ method: 'POST', url: '/stop?savepoint=true', headers: auth });
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toEqual(answer);
      const other = await app.inject({ method: 'POST', url: '/stop', headers: auth });
      expect(other.statusCode).toBe(409);
      expect(other.json()).toMatchObject({ code: 'SLUICE_E_STOPPED' });
      const late = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: {} });
      expect(late.statusCode).toBe(409);
      expect(late.json()).toMatchObject({ code: 'SLUICE_E_NOT_RUNNING' });
    } finally {
      await runtime.close();
      await app.close();
    }
  });

  it('is ready with no partitions when the job has more pods than partitions, and idles until stopped', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-idle');
    const admin = kafka(brokers).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 2 }] });
    await admin.disconnect();
    const config = readConfig(fraudPodEnv(brokers, { name, input, ordinal: 2, parallelism: 3 }, { SLUICE_CONTROL_TOKEN: token }));
    const runtime = await Runtime.open(config);
    const app = buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken });
    try {
      await runtime.start();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>()).toMatchObject({
        ordinal: 2,
        parallelism: 3,
        phase: 'running',
        partitions: [],
      });
      const stop = await app.inject({ method: 'POST', url: '/stop', headers: auth });
      expect(stop.json()).toEqual({ stopped: true, savepoint: null });
      await runtime.taskSet.done;
    } finally {
      await runtime.close();
      await app.close();
    }
  });

  it('stops the pods of a job with one savepoint they write together under the shared id, in the savepoint location', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-shared');
    await produceTransactions(brokers, input, { count: 300, partitions: 3, customers: 7 });
    const checkpoints = scratchDir('checkpoints');
    const savepoints = scratchDir('savepoints');
    const jobFile = writeFraudJob({ name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` });
    const pods = await Promise.all(
      [0, 1].map(async (ordinal) => {
        const config = readConfig({
          SLUICE_JOB_FILE: jobFile,
          SLUICE_KAFKA_BROKERS: brokers.join(','),
          SLUICE_STATE_DIR: scratchDir(`state-${ordinal}`),
          SLUICE_POD_ORDINAL: String(ordinal),
          SLUICE_PARALLELISM: '2',
          SLUICE_CONTROL_TOKEN: token,
          SLUICE_SNAPSHOT_LOCATION: checkpoints,
          SLUICE_SAVEPOINT_LOCATION: savepoints,
        });
        const runtime = await Runtime.open(config);
        return { runtime, app: buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken }) };
      }),
    );
    try {
      for (const { runtime } of pods) await runtime.start();
      await eventually('both pods to have read their partitions', async () => {
        const read = await Promise.all(
          pods.map(async ({ app }) => (await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>().recordsIn),
        );
        return read[0] === 200 && read[1] === 100 ? read : undefined;
      });

      const answers = [];
      for (const { app } of pods) {
        const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true&id=upgrade-3', headers: auth });
        expect(stop.statusCode).toBe(200);
        answers.push(stop.json<StopResponse>());
      }
      expect(answers.map((a) => a.savepoint)).toEqual([
        { id: 'upgrade-3', location: join(savepoints, 'upgrade-3'), complete: false },
        { id: 'upgrade-3', location: join(savepoints, 'upgrade-3'), complete: true },
      ]);
      const manifest = JSON.parse(readFileSync(join(savepoints, 'upgrade-3', 'manifest.json'), 'utf8')) as {
        kind: string;
        writers: number;
        partitions: { partition: number; sourceOffset: number }[];
      };
      expect(manifest).toMatchObject({ kind: 'savepoint', writers: 2 });
      expect(manifest.partitions.map((p) => [p.partition, p.sourceOffset])).toEqual([
        [0, 100],
        [1, 100],
        [2, 100],
      ]);
      expect(readdirSync(checkpoints)).toEqual([]);
      for (const { app } of pods)
        expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>()).toMatchObject({
          phase: 'finished',
          lastSavepoint: join(savepoints, 'upgrade-3'),
        });
    } finally {
      for (const { runtime, app } of pods) {
        await runtime.close();
        await app.close();
      }
    }
  });

  it('stops processing before it writes the savepoint of a stop: the savepoint is the last commit, even with input still arriving', async () => {
    const input = uniqueName('txn');
    const name = uniqueName('fraud-backlog');
    await produceInSmallBatches(input, 20_000);
    const savepoints = scratchDir('savepoints');
    const config = readConfig(
      fraudPodEnv(
        brokers,
        { name, input },
        {
          SLUICE_CONTROL_TOKEN: token,
          SLUICE_SAVEPOINT_LOCATION: savepoints,
          // Small fetches of small batches: the backlog takes a while, so the stop lands while records are being processed.
          SLUICE_MAX_BYTES_PER_PARTITION: '1024',
        },
      ),
    );
    const runtime = await Runtime.open(config);
    const app = buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken });
    const kafkaClient = new KafkajsClient({ brokers });
    try {
      await runtime.start();
      await eventually('the pod reading its backlog', async () =>
        (await app.inject({ method: 'GET', url: '/status', headers: auth })).json<RuntimeStatus>().recordsIn > 500 ? true : undefined,
      );
      const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true&id=mid-backlog', headers: auth });
      expect(stop.statusCode).toBe(200);

      const manifest = JSON.parse(readFileSync(join(savepoints, 'mid-backlog', 'manifest.json'), 'utf8')) as {
        partitions: { partition: number; sourceOffset: number }[];
      };
      const committed = await kafkaClient.committedOffsets(runtime.taskSet.groupId, input);
      expect(manifest.partitions.map((p) => [p.partition, p.sourceOffset])).toEqual([0, 1].map((p) => [p, committed.get(p)?.offset ?? 0]));
      expect(manifest.partitions.map((p) => p.sourceOffset).reduce((a, b) => a + b)).toBe(runtime.status().recordsIn);
      expect(runtime.status().recordsIn).toBeLessThan(20_000);
    } finally {
      await kafkaClient.close();
      await runtime.close();
      await app.close();
    }
  });
});
