// What the StreamJob end-to-end tests share: a namespace with its own process kubelet and S3 bucket, the fraud job as a StreamJob, a steady feed of transactions, and the results it must give.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import type { RunningManager } from '@sluice/controller';
import { group, version, type Condition, type StreamJob, type StreamJobSpec, type Topic } from '@sluice/crds';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { readEndpoints } from '../../env/src/endpoints.js';
import { eventually } from '../../env/src/eventually.js';
import { runtimeImages, startProcessKubelet, type ProcessKubelet } from '../../env/src/process-kubelet/index.js';
import { s3Client } from '../../env/src/s3.js';
import type { S3Endpoint } from '../../env/src/service.js';
import { runController } from '../controller/harness.js';
import { installCrds } from '../install-crds.js';
import { readCommitted, uniqueName } from '../kafka/harness.js';

export const endpoints = readEndpoints();
export const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(endpoints.kube.kubeconfig);
export const core = kubeconfig.makeApiClient(CoreV1Api);
const custom = kubeconfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export { uniqueName } from '../kafka/harness.js';

export interface JobWorld {
  namespace: string;
  kubelet: ProcessKubelet;
  bucket: string;
  workDir: string;
  /** Deletes the namespace (the kubelet ends its pods), stops the kubelet and removes the work folder. */
  close(): Promise<void>;
}

/** CRDs, a namespace, a process kubelet for it, a bucket on `s3`, and the Secret with the bucket's credentials (`s3-credentials`). */
export async function prepareWorld(prefix: string, s3: S3Endpoint = endpoints.s3): Promise<JobWorld> {
  await installCrds(kubeconfig);
  const namespace = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const workDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const kubelet = await startProcessKubelet({ kubeconfig: endpoints.kube.kubeconfig, images: runtimeImages(), namespace, workDir, maxGracePeriodSeconds: 20 });
  const bucket = uniqueName('savepoints');
  await createBucket(s3, bucket);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 's3-credentials' }, stringData: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
  });
  const close = async (): Promise<void> => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await eventually(
      `namespace ${namespace} gone`,
      () =>
        core.readNamespace({ name: namespace }).then(
          () => undefined,
          (error: unknown) => (error instanceof ApiException && error.code === 404 ? true : undefined),
        ),
      90_000,
      250,
    ).catch(() => undefined);
    await kubelet.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  return { namespace, kubelet, bucket, workDir, close };
}

export interface JobTest {
  name: string;
  topics: FraudTopics;
  world: JobWorld;
  /** The controller in this process (absent with `inProcessController: false`). */
  controller: RunningManager | undefined;
  feed: TransactionFeed;
}

export interface JobTestOptions {
  /** An S3 server of the test's own, started before the world and stopped after it. */
  s3?: { start: () => Promise<S3Endpoint>; stop: () => Promise<void> };
  /** false: the test starts its own controller (a child process it kills). */
  inProcessController?: boolean;
}

/**
 * Registers the hooks a StreamJob test file shares: a world (namespace, kubelet, bucket), the controller, and a feed of
 * transactions into the job's input topic (4 partitions); the returned object is filled in before the tests run.
 */
export function jobTest(prefix: string, options: JobTestOptions = {}): JobTest {
  const name = uniqueName('fraud');
  const test = { name, topics: { input: `${name}-txn`, output: `${name}-features` } } as JobTest;
  beforeAll(async () => {
    const s3 = options.s3 === undefined ? endpoints.s3 : await options.s3.start();
    test.world = await prepareWorld(prefix, s3);
    test.controller = options.inProcessController === false ? undefined : await runController(test.world.namespace);
    test.feed = new TransactionFeed(test.topics.input, 4);
    await test.feed.open();
  }, 60_000);
  afterAll(async () => {
    await test.feed?.close();
    await test.world?.close();
    await test.controller?.stop();
    await options.s3?.stop();
  }, 120_000);
  return test;
}

export function condition(job: StreamJob, type: string): Condition | undefined {
  return job.status?.conditions?.find((candidate) => candidate.type === type);
}

export async function createBucket(s3: S3Endpoint, bucket: string): Promise<void> {
  const client = s3Client(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

export interface FraudTopics {
  input: string;
  output: string;
}

/** The fraud-velocity example's pipeline as a StreamJob on the test's topics, checkpoints and savepoints in the bucket. */
export function fraudJob(name: string, topics: FraudTopics, world: { bucket: string }, s3: S3Endpoint = endpoints.s3, parallelism = 2): StreamJob {
  return {
    apiVersion: `${group}/${version}`,
    kind: 'StreamJob',
    metadata: { name },
    spec: {
      sources: [
        {
          name: 'transactions',
          kafka: { topic: topics.input, keyedBy: 'customer_id' },
          format: 'json',
          eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '30s' },
        },
      ],
      pipeline: [
        { keyBy: { field: 'customer_id' } },
        {
          id: 'velocity',
          window: { type: 'tumbling', size: '5m', allowedLateness: '1m' },
          aggregate: [
            { name: 'txn_count', fn: 'count' },
            { name: 'txn_sum', fn: 'sum', field: 'amount' },
          ],
        },
      ],
      sinks: [{ name: 'features-topic', kafka: { topic: topics.output, key: '{customer_id}' } }],
      lateOutput: { topic: `${topics.input}-late` },
      deadLetter: { topic: `${topics.input}-dead-letter` },
      delivery: { commitInterval: '200ms' },
      checkpoints: { location: `s3://${world.bucket}/${name}`, interval: '30s' },
      connections: { s3: { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentialsSecretRef: { name: 's3-credentials' } } },
      parallelism,
      readinessTimeout: '2m',
    },
  };
}

export async function createJob(namespace: string, job: StreamJob): Promise<StreamJob> {
  return (await custom.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: 'streamjobs',
    body: { ...job, metadata: { ...job.metadata, namespace } },
  })) as StreamJob;
}

export async function readJob(namespace: string, name: string): Promise<StreamJob> {
  return (await custom.getNamespacedCustomObject({ group, version, namespace, plural: 'streamjobs', name })) as StreamJob;
}

/** Merge-patches the job's spec, as kubectl apply of a changed manifest would; the new generation. */
export async function patchSpec(namespace: string, name: string, spec: Partial<StreamJobSpec> | Record<string, unknown>): Promise<number> {
  const patched = (await custom.patchNamespacedCustomObject(
    { group, version, namespace, plural: 'streamjobs', name, body: { spec } },
    mergePatch,
  )) as StreamJob;
  return patched.metadata.generation ?? 0;
}

export async function readTopic(namespace: string, name: string): Promise<Topic> {
  return (await custom.getNamespacedCustomObject({ group, version, namespace, plural: 'topics', name })) as Topic;
}

export async function deleteJob(namespace: string, name: string): Promise<void> {
  await custom.deleteNamespacedCustomObject({ group, version, namespace, plural: 'streamjobs', name }).catch(() => undefined);
}

/** Waits until the job's status says `phase` for at least generation `generation`, with no upgrade in flight. */
export function waitForPhase(
  namespace: string,
  name: string,
  phase: NonNullable<NonNullable<StreamJob['status']>['phase']>,
  generation = 1,
  timeoutMs = 240_000,
): Promise<StreamJob> {
  return eventually(
    `StreamJob ${name} ${phase} at generation ${generation}`,
    async () => {
      const job = await readJob(namespace, name);
      const status = job.status;
      return status?.phase === phase &&
        status.upgrade === undefined &&
        (status.observedGeneration ?? 0) >= generation &&
        (status.deployedGeneration ?? 0) >= Math.min(generation, job.metadata.generation ?? 0)
        ? job
        : undefined;
    },
    timeoutMs,
    250,
  );
}

export async function jobPods(namespace: string, name: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `sluice.dev/job=${name}` })).items;
}

// ——— input and the results it must give ———

export interface Transaction {
  customer_id: string;
  amount: number;
  timestamp: string;
  partition: number;
}

const customers = 8;
const start = Date.parse('2026-01-05T00:00:00Z');
/** Event time advances this much per transaction, so a 5-minute window closes every 30 transactions. */
const stepMs = 10_000;

/**
 * Produces transactions with event time rising 10 s each, customer i mod 8, each customer always on the same partition
 * (as a keyed producer would put it), and remembers them to compute the results an exactly-once job must give.
 */
export class TransactionFeed {
  readonly produced: Transaction[] = [];
  #producer: Producer | undefined;
  #steady: Promise<void> | undefined;
  #stopSteady = false;

  constructor(
    readonly topic: string,
    readonly partitions: number,
  ) {}

  async open(): Promise<void> {
    const kafka = new Kafka({ clientId: 'stream-job-test-feed', brokers: endpoints.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: this.partitions, replicationFactor: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.#producer.connect();
  }

  async produce(count: number): Promise<void> {
    const batch: Transaction[] = [];
    for (let i = 0; i < count; i += 1) {
      const sequence = this.produced.length + batch.length;
      const customer = sequence % customers;
      batch.push({
        customer_id: `c${customer}`,
        amount: (sequence % 97) + 1,
        timestamp: new Date(start + sequence * stepMs).toISOString(),
        partition: customer % this.partitions,
      });
    }
    await this.#producer!.send({
      topic: this.topic,
      messages: batch.map(({ partition, ...value }) => ({ partition, key: value.customer_id, value: JSON.stringify(value) })),
    });
    this.produced.push(...batch);
  }

  /** Produces `perTick` transactions every `tickMs` until stopSteady. */
  startSteady(perTick = 5, tickMs = 100): void {
    this.#stopSteady = false;
    this.#steady = (async () => {
      while (!this.#stopSteady) {
        await this.produce(perTick);
        await new Promise((resolve) => setTimeout(resolve, tickMs));
      }
    })();
  }

  async stopSteady(): Promise<void> {
    this.#stopSteady = true;
    await this.#steady;
  }

  /**
   * One transaction an hour of event time later on every partition, from customers outside the checked set, so every
   * partition's watermark passes every window of the real transactions and they all fire.
   */
  async flush(): Promise<void> {
    const last = start + this.produced.length * stepMs;
    await this.#producer!.send({
      topic: this.topic,
      messages: Array.from({ length: this.partitions }, (_, partition) => ({
        partition,
        key: `flush${partition}`,
        value: JSON.stringify({ customer_id: `flush${partition}`, amount: 1, timestamp: new Date(last + 3_600_000).toISOString() }),
      })),
    });
  }

  async close(): Promise<void> {
    await this.stopSteady();
    await this.#producer?.disconnect();
  }

  /** Each customer's 5-minute windows with their count and sum: `c3 2026-01-05T00:05:00.000Z count=4 sum=210`. */
  expected(): string[] {
    const windows = new Map<string, { count: number; sum: number }>();
    for (const { customer_id, amount, timestamp } of this.produced) {
      const windowStart = new Date(Math.floor(Date.parse(timestamp) / 300_000) * 300_000).toISOString();
      const key = `${customer_id} ${windowStart}`;
      const window = windows.get(key) ?? { count: 0, sum: 0 };
      window.count += 1;
      window.sum += amount;
      windows.set(key, window);
    }
    return [...windows].map(([key, { count, sum }]) => `${key} count=${count} sum=${sum}`).sort();
  }
}

export interface Result {
  customer_id: string;
  window_start: string;
  txn_count: number;
  txn_sum: number | string;
  txn_max?: number;
  /** When Kafka appended it (the producer's create time), epoch ms. */
  appendedAt: number;
}

/** The job's committed results (read_committed), without the flush customers. */
export async function readResults(topic: string): Promise<Result[]> {
  const messages = await readCommitted(endpoints.kafka.brokers, topic);
  return messages
    .map((message) => ({ ...(JSON.parse(message.value!.toString()) as Omit<Result, 'appendedAt'>), appendedAt: Number(message.timestamp) }))
    .filter((result) => !result.customer_id.startsWith('flush'));
}

/** The results in the form of TransactionFeed.expected(): every window once, if the job lost and repeated nothing. */
export function described(results: readonly Result[]): string[] {
  return results.map((result) => `${result.customer_id} ${result.window_start} count=${result.txn_count} sum=${Number(result.txn_sum)}`).sort();
}

/** Waits until the output holds as many results as the input has windows, then gives them. */
export function allResults(feed: TransactionFeed, output: string, timeoutMs = 120_000): Promise<Result[]> {
  const want = feed.expected().length;
  return eventually(
    `${want} results in ${output}`,
    async () => {
      const results = await readResults(output);
      return results.length >= want ? results : undefined;
    },
    timeoutMs,
    500,
  );
}
