// Wires the controller together: Kafka admin, informers, work queues, reconcilers, leader election, metrics and health.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { explainKafkaError, type KafkaConnectionOptions, type SchemaSubject, type StreamJob, type Topic } from '@sluice/crds';
import { Kafka, logLevel } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from './machinery/clock.js';
import { Controller } from './machinery/controller.js';
import { CustomResources, keyOfObject } from './machinery/custom-resources.js';
import { KubeEventRecorder } from './machinery/events.js';
import { GenerationChanged } from './machinery/generation-changed.js';
import { startHttpServer } from './machinery/http-server.js';
import { ResourceInformer, type Namespaces } from './machinery/informer.js';
import { LeaderElector, type LeaderElectionOptions } from './machinery/leader-election.js';
import { ControllerMetrics } from './machinery/metrics.js';
import { isNotFound } from './machinery/kube-errors.js';
import { keyOf } from './machinery/reconciler.js';
import type { RegistryConnection } from '@sluice/crds/registry-connection';
import { schemaRegistryClientFor } from '@sluice/runtime';
import { registryClientFor } from './registry-client.js';
import { SchemaSubjectReconciler } from './schema-subject/reconciler.js';
import { JobObjects } from './stream-job/job-objects.js';
import { podIpAddress, type PodAddress } from './stream-job/observer.js';
import { jobKeyOfOwned, watchOwnedObjects } from './stream-job/owned-watches.js';
import { StreamJobReconciler } from './stream-job/reconciler.js';
import { runtimePort } from './stream-job/resources.js';
import { HttpRuntimeControl } from './stream-job/runtime-control.js';
import { KubeSavepointStorage } from './stream-job/savepoint-storage.js';
import { KafkaTopicAdmin, type TopicAdmin } from './topic/kafka-topics.js';
import { KafkaTopicIds } from './topic/topic-ids.js';
import { TopicReconciler, kafkaTopicName } from './topic/reconciler.js';

export interface ManagerOptions {
  kubeconfig: KubeConfig;
  namespaces: Namespaces;
  kafkaBrokers: string[];
  /** TLS and SASL of the controller's own Kafka clients (the Topic operator's admin), from its Kafka Secret; plaintext without. */
  kafkaConnection?: KafkaConnectionOptions;
  /** The registry a SchemaSubject without spec.registryUrl uses. */
  defaultRegistryUrl?: string;
  /** The controller's user and CA for the default registry (SLUICE_REGISTRY_USER, _PASSWORD, _CA_FILE); none without. */
  registryConnection?: RegistryConnection;
  /** Undefined: no HTTP server; 0: any free port. */
  metricsPort?: number;
  metricsHost?: string;
  /** Undefined: run without leader election (one replica, or tests). */
  leaderElection?: LeaderElectionOptions;
  resyncPeriodMs?: number;
  workers?: number;
  clock?: Clock;
  log?: Logger;
  /** Called when this process loses the Lease; by default the manager stops. The CLI exits instead, as controller-runtime does. */
  onLeadershipLost?: () => void;
  /** The Kafka side of Topics; by default a kafkajs admin on kafkaBrokers. */
  topicAdmin?: TopicAdmin;
  streamJobs?: StreamJobOptions;
}

export interface StreamJobOptions {
  /** The runtime image of jobs without spec.image. */
  runtimeImage?: string;
  /** s3://bucket/prefix or a folder for the checkpoints and savepoints of jobs that name no location. */
  snapshotLocation?: string;
  /** redis://host:port for jobs with a Redis sink that name no spec.connections.redis.url. */
  redisUrl?: string;
  /** How the controller reaches a runtime pod's control API; by default its pod IP. */
  podAddress?: PodAddress;
}

/** The runtime image this controller deploys by default: the one released with it. */
export const defaultRuntimeImage = 'ghcr.io/sluice/sluice-runtime:0.1.0';

export interface RunningManager {
  metrics: ControllerMetrics;
  /** The HTTP server's port, when it runs one. */
  port: number | undefined;
  stop(): Promise<void>;
}

/** A unique Lease holder identity: the host (the pod's name in a cluster) and a random suffix. */
export function leaderIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export async function startManager(options: ManagerOptions): Promise<RunningManager> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? pino();
  const metrics = new ControllerMetrics(options.metricsPort !== undefined);
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) await step().catch((error: unknown) => log.warn({ err: error }, 'stopping failed'));
  };
  let leading = options.leaderElection === undefined;
  let server: { server: Server; port: number } | undefined;
  try {
    if (options.metricsPort !== undefined) {
      server = await startHttpServer(options.metricsPort, options.metricsHost ?? '127.0.0.1', metrics.registry, {
        unhealthy: () => undefined,
      });
      const running = server.server;
      stops.push(() => new Promise<void>((resolve) => running.close(() => resolve())));
      log.info({ port: server.port }, 'serving /healthz and /metrics');
    }

    if (options.leaderElection !== undefined) {
      const elector = new LeaderElector(options.kubeconfig, options.leaderElection, clock, log);
      stops.push(() => elector.release());
      log.info({ lease: `${options.leaderElection.namespace}/${options.leaderElection.leaseName}` }, 'waiting to become the leader');
      await elector.acquire(() => {
        log.error('lost the leader Lease; stopping so that only one controller acts');
        metrics.leader.set(0);
        if (options.onLeadershipLost !== undefined) options.onLeadershipLost();
        else void stop();
      });
      leading = true;
    }
    metrics.leader.set(leading ? 1 : 0);

    const topicAdmin = options.topicAdmin ?? (await connectKafka(options.kafkaBrokers, options.kafkaConnection ?? {}, stops));
    const events = new KubeEventRecorder(options.kubeconfig, clock, log);
    const controllerOptions = { workers: options.workers ?? 4, resyncPeriodMs: options.resyncPeriodMs ?? 120_000 };
    const informer = <T extends object>(source: ConstructorParameters<typeof ResourceInformer<T>>[1], kind: string): ResourceInformer<T> => {
      const created = new ResourceInformer<T>(options.kubeconfig, source, options.namespaces, clock, log.child({ informer: kind }));
      stops.push(() => created.stop());
      return created;
    };

    const topics = new CustomResources<Topic>(options.kubeconfig, 'topics');
    const topicInformer = informer(topics, 'Topic');
    const topicLog = log.child({ controller: 'Topic' });
    const topicController = new Controller(
      new TopicReconciler({ topics, watchedTopics: () => topicInformer.list(), admin: topicAdmin, events, clock, log: topicLog }),
      controllerOptions,
      metrics,
      clock,
      topicLog,
    );
    topicInformer.onChange((topic) => {
      topicController.enqueue(keyOf(keyOfObject(topic)));
      // A Topic that goes away may leave its Kafka topic to another Topic that was waiting in ResourceConflict.
      const name = kafkaTopicName(topic);
      for (const other of topicInformer.list())
        if (other.metadata.uid !== topic.metadata.uid && kafkaTopicName(other) === name) topicController.enqueue(keyOf(keyOfObject(other)));
    });
    topicController.resyncFrom(() => topicInformer.list().map((topic) => keyOf(keyOfObject(topic))));

    const core = options.kubeconfig.makeApiClient(CoreV1Api);
    const subjects = new CustomResources<SchemaSubject>(options.kubeconfig, 'schemasubjects');
    const subjectInformer = informer(subjects, 'SchemaSubject');
    const subjectLog = log.child({ controller: 'SchemaSubject' });
    const subjectController = new Controller(
      new SchemaSubjectReconciler({
        subjects,
        readConfigMap: (namespace, name) => readConfigMap(core, namespace, name),
        registry: (url) => registryClientFor(url, options.defaultRegistryUrl, options.registryConnection),
        defaultRegistryUrl: options.defaultRegistryUrl,
        events,
        clock,
        log: subjectLog,
      }),
      controllerOptions,
      metrics,
      clock,
      subjectLog,
    );
    subjectInformer.onChange((subject) => subjectController.enqueue(keyOf(keyOfObject(subject))));
    subjectController.resyncFrom(() => subjectInformer.list().map((subject) => keyOf(keyOfObject(subject))));
    // A schema kept in a ConfigMap: a change to the ConfigMap requeues the SchemaSubjects that read it.
    const configMapInformer = informer<V1ConfigMap>(
      {
        path: (namespace) => (namespace === undefined ? '/api/v1/configmaps' : `/api/v1/namespaces/${namespace}/configmaps`),
        list: (namespace) => (namespace === undefined ? core.listConfigMapForAllNamespaces() : core.listNamespacedConfigMap({ namespace })),
      },
      'ConfigMap',
    );
    configMapInformer.onChange((configMap) => {
      for (const subject of subjectInformer.list()) {
        if (subject.metadata.namespace === configMap.metadata?.namespace && subject.spec.configMapRef?.name === configMap.metadata?.name) {
          subjectController.enqueue(keyOf(keyOfObject(subject)));
        }
      }
    });

    const jobs = new CustomResources<StreamJob>(options.kubeconfig, 'streamjobs');
    const jobInformer = informer(jobs, 'StreamJob');
    const jobLog = log.child({ controller: 'StreamJob' });
    const jobController = new Controller(
      new StreamJobReconciler({
        jobs,
        objects: new JobObjects(options.kubeconfig, {
          image: options.streamJobs?.runtimeImage ?? defaultRuntimeImage,
          kafkaBrokers: options.kafkaBrokers,
          ...(options.streamJobs?.snapshotLocation === undefined ? {} : { snapshotLocation: options.streamJobs.snapshotLocation }),
          ...(options.streamJobs?.redisUrl === undefined ? {} : { redisUrl: options.streamJobs.redisUrl }),
        }),
        control: new HttpRuntimeControl(),
        podAddress: options.streamJobs?.podAddress ?? podIpAddress(runtimePort),
        sourcePartitions: async (topic) => (await topicAdmin.describe(topic))?.partitions,
        savepointStorage: new KubeSavepointStorage(options.kubeconfig),
        schemaRegistry: (url) => schemaRegistryClientFor(url, options.defaultRegistryUrl, options.registryConnection),
        ...(options.defaultRegistryUrl === undefined ? {} : { defaultRegistryUrl: options.defaultRegistryUrl }),
        events,
        metrics,
        clock,
        log: jobLog,
      }),
      controllerOptions,
      metrics,
      clock,
      jobLog,
    );
    // Only a new generation (or a job added or deleted) is news: the reconciler drives itself through its requeues, and a
    // status it wrote must not bring it back at once.
    const jobGenerations = new GenerationChanged();
    jobInformer.onChange((job, event) => {
      if (jobGenerations.admits(job, event)) jobController.enqueue(keyOf(keyOfObject(job)));
    });
    jobController.resyncFrom(() => jobInformer.list().map((job) => keyOf(keyOfObject(job))));
    // What a job owns changing (a pod ready or failing, the StatefulSet caught up) brings the job back at once: its
    // requeues are a safety net, not how it notices.
    const ownedInformers = watchOwnedObjects(options.kubeconfig, informer, (key) => jobController.enqueue(key));
    topicInformer.onChange((topic) => {
      // A changelog Topic turning Ready lets its job deploy.
      const key = jobKeyOfOwned(topic);
      if (key !== undefined) jobController.enqueue(key);
    });

    await Promise.all([
      topicInformer.start(),
      subjectInformer.start(),
      configMapInformer.start(),
      jobInformer.start(),
      ...ownedInformers.map((owned) => owned.start()),
    ]);
    for (const controller of [topicController, subjectController, jobController]) {
      controller.start();
      stops.push(() => controller.stop());
    }
    log.info({ namespaces: options.namespaces.all ? 'all' : options.namespaces.names }, 'controller started');
  } catch (error) {
    await stop();
    throw error;
  }
  return { metrics, port: server?.port, stop };
}

async function readConfigMap(core: CoreV1Api, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await core.readNamespacedConfigMap({ namespace, name })).data ?? {};
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function connectKafka(brokers: string[], connection: KafkaConnectionOptions, stops: (() => Promise<void>)[]): Promise<TopicAdmin> {
  const admin = new Kafka({ clientId: 'sluice-controller', brokers, logLevel: logLevel.NOTHING, ...connection }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw explainKafkaError(error, { brokers, connection });
  }
  stops.push(() => admin.disconnect());
  return new KafkaTopicAdmin(admin, new KafkaTopicIds(brokers, connection));
}
