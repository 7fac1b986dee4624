// A hung S3 (its server SIGSTOPped) under a job taking a checkpoint every second: commits go on, /readyz and /status say the checkpoint is stuck, a stop with savepoint is refused with the reason, a checkpoint completes once S3 answers, and the output is an uninterrupted run's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { CheckpointStatus, RuntimeStatus } from '@sluice/crds';
import { readEndpoints } from '../env/src/endpoints.js';
import { eventually } from '../env/src/eventually.js';
import { envPaths, sleep } from '../env/src/proc.js';
import { s3Client, startPrivateS3, type PrivateS3 } from '../env/src/s3.js';
import {
  createTopics,
  multiset,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeFraudJob,
  type FraudJobTopics,
  type RuntimeProcess,
} from '../e2e/kafka/harness.js';
import { freezable, pidOf, produceBatch, produceEndOfInput, type Freezable } from './stuck-harness.js';

const brokers = readEndpoints().kafka.brokers;
const PARTITIONS = 2;
const token = 'stuck-s3-token';
const s3Dir = mkdtempSync(join(tmpdir(), 'sluice-stuck-s3-'));
let s3: PrivateS3;
let server: Freezable;

beforeAll(async () => {
  s3 = await startPrivateS3(envPaths(), s3Dir);
  server = freezable(pidOf(['versitygw', new URL(s3.endpoint.endpoint).host]));
  const client = s3Client(s3.endpoint);
  await client.send(new CreateBucketCommand({ Bucket: 'checkpoints' }));
  client.destroy();
});

afterAll(async () => {
  server.thaw();
  await s3.stop();
  rmSync(s3Dir, { recursive: true, force: true });
  removeScratchDirs();
});

function jobTopics(input: string, name: string): FraudJobTopics {
  return { name, input, output: `${name}-features`, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

function runtimeEnv(topics: FraudJobTopics): Record<string, string> {
  return {
    SLUICE_JOB_FILE: writeFraudJob(topics),
    SLUICE_KAFKA_BROKERS: brokers.join(','),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
    SLUICE_CONTROL_TOKEN: token,
  };
}

async function call<T>(pod: RuntimeProcess, method: string, path: string): Promise<{ status: number; body: T }> {
  const { port } = pod.events.find((e) => e.event === 'listening') as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

const commits = (pod: RuntimeProcess): number => pod.events.filter((e) => e.event === 'committed').length;

describe('a job whose S3 hangs', () => {
  it('goes on committing while its checkpoint is stuck, reports it, checkpoints again once S3 answers, and loses or repeats nothing', async () => {
    const input = uniqueName('stuck-s3');
    await createTopics(brokers, [input], PARTITIONS);
    let produced = await produceBatch(brokers, input, PARTITIONS, 0);
    const topics = jobTopics(input, uniqueName('fraud-stuck-s3'));
    const { endpoint, region, accessKeyId, secretAccessKey } = s3.endpoint;
    const pod = startRuntime({
      ...runtimeEnv(topics),
      SLUICE_SNAPSHOT_LOCATION: `s3://checkpoints/${topics.name}`,
      SLUICE_CHECKPOINT_INTERVAL: '1s',
      SLUICE_S3_ENDPOINT: endpoint,
      SLUICE_S3_REGION: region,
      SLUICE_S3_FORCE_PATH_STYLE: 'true',
      SLUICE_S3_TIMEOUT: '2s',
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
    });
    await pod.waitForEvents('checkpoint', 1);

    server.freeze();
    // Input keeps coming while S3 is frozen; each sample is what /readyz said and how many commits were logged by then.
    const samples: { checkpoint: CheckpointStatus; status: number; commits: number }[] = [];
    for (let second = 0; second < 10; second++) {
      produced = await produceBatch(brokers, input, PARTITIONS, produced);
      await sleep(1000);
      const ready = await call<{ ready: boolean; checkpoint: CheckpointStatus }>(pod, 'GET', '/readyz');
      samples.push({ checkpoint: ready.body.checkpoint, status: ready.status, commits: commits(pod) });
    }
    // Counted from the first sample, a second into the freeze: a transaction in flight when S3 froze may still finish before a stuck checkpoint holds the next.
    expect(samples.at(-1)!.commits).toBeGreaterThan(samples[0]!.commits);
    // The same checkpoint still in progress at two samples, with commits made between them: processing did not wait for it.
    const stuck = samples.filter((s) => s.checkpoint.inProgressSince !== null);
    expect(
      stuck.some((later) =>
        stuck.some((earlier) => earlier.checkpoint.inProgressSince === later.checkpoint.inProgressSince && later.commits > earlier.commits),
      ),
    ).toBe(true);
    expect(samples.every((s) => s.status === 200)).toBe(true);

    // Each S3 request gives up after 3 tries of 2 s: the checkpoint fails, says why, and is counted.
    const failed = await eventually('a failed checkpoint in /status', async () => {
      const { body } = await call<RuntimeStatus>(pod, 'GET', '/status');
      return body.checkpoint.lastError === null ? undefined : body;
    });
    expect(failed.phase).toBe('running');
    expect(failed.checkpoint.lastError).toContain(`at ${endpoint} timed out 3 times`);
    expect(failed.checkpoint.lastError).toContain('check that the S3 server answers');
    const metrics = await (await fetch(`http://127.0.0.1:${(pod.events.find((e) => e.event === 'listening') as { port: number }).port}/metrics`)).text();
    expect(Number(/^sluice_checkpoint_failures_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(pod.events.some((e) => e.event === 'checkpoint failed' && String(e.error).includes(endpoint))).toBe(true);

    // A stop with savepoint is refused before processing stops, with the reason; the job goes on.
    const refused = await call<{ code: string; message: string }>(pod, 'POST', '/stop?savepoint=true');
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('SLUICE_E_SAVEPOINT_STORAGE');
    expect(refused.body.message).toMatch(/cannot be reached .*timed out 3 times.*the job goes on running/);
    const afterRefusal = commits(pod);
    produced = await produceBatch(brokers, input, PARTITIONS, produced);
    await eventually('a commit after the refused stop', () => Promise.resolve(commits(pod) > afterRefusal ? true : undefined));

    server.thaw();
    const thawed = Date.now();
    const recovered = await eventually(
      'a checkpoint completed after S3 answers again',
      async () => {
        const { body } = await call<RuntimeStatus>(pod, 'GET', '/status');
        const { lastCompletedAt, lastError } = body.checkpoint;
        return lastCompletedAt !== null && Date.parse(lastCompletedAt) > thawed && lastError === null ? body : undefined;
      },
      60_000,
      250,
    );
    expect(recovered.phase).toBe('running');

    await produceEndOfInput(brokers, input, PARTITIONS);
    await pod.exitsWith(0);

    // The same input, uninterrupted and without checkpoints.
    const clean = jobTopics(input, uniqueName('fraud-clean'));
    await startRuntime(runtimeEnv(clean)).exitsWith(0);
    for (const side of ['output', 'late', 'deadLetter'] as const) {
      expect(multiset(await readCommitted(brokers, topics[side]))).toEqual(multiset(await readCommitted(brokers, clean[side])));
    }
    expect((await readCommitted(brokers, clean.output)).length).toBeGreaterThan(0);
  }, 240_000);
});
