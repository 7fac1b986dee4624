// The Kubernetes objects a StreamJob owns, built from its spec: control Secret, job ConfigMap, headless Service, StatefulSet, changelog Topics.
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1OwnerReference,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V1Volume,
} from '@kubernetes/client-node';
import { RUNTIME_ENV, type RuntimeEnvName, type StreamJob, type StreamJobSpec, type Topic } from '@sluice/crds';
import { changelogTopics, repartitionTopic } from '@sluice/runtime';
import { stringify } from 'yaml';
import { runtimeContainerName, runtimePodSpec, stateVolume, stateVolumes, tmpVolume } from './pod-template.js';
import { checkpointLocation, jobManifest, savepointLocation } from './spec.js';

export const jobLabel = 'sluice.dev/job';
export const specHashAnnotation = 'sluice.dev/spec-hash';
export const generationAnnotation = 'sluice.dev/generation';
export const restartNonceAnnotation = 'sluice.dev/restart-nonce';
export const restoreFromAnnotation = 'sluice.dev/restore-from';
/** The StatefulSet's volumeClaimTemplates as Sluice wrote them: they cannot change in place, so a change recreates the StatefulSet. */
export const volumeClaimAnnotation = 'sluice.dev/volume-claim-templates';
export const runtimePort = 8080;
const jobFileDir = '/etc/sluice/job';
/** Where the Secret of connections.kafka.secretRef is mounted: TLS and SASL settings, one file per key. */
const kafkaSecretDir = '/var/run/secrets/sluice/kafka';
const kafkaSecretVolume = 'kafka-credentials';
const stateDir = '/var/lib/sluice/state';
// The root filesystem is read-only: snapshots are staged in TMPDIR, an emptyDir.
const tmpDir = '/tmp';

/** What the controller was started with: defaults for what a job's spec leaves out. */
export interface RuntimeDefaults {
  /** The runtime image for jobs without spec.image. */
  image: string;
  kafkaBrokers: readonly string[];
  /** s3://bucket/prefix or a folder path for jobs that name no checkpoint location. */
  snapshotLocation?: string;
  /** The feature store of jobs with a Redis sink and no spec.connections.redis.url. */
  redisUrl?: string;
}

/** One deployment of a job: which spec, how many pods, and where their state starts from. */
export interface Deployment {
  spec: StreamJobSpec;
  hash: string;
  generation: number;
  replicas: number;
  /** A savepoint or checkpoint the pods roll back to (SLUICE_RESTORE_FROM). */
  restoreFrom?: string;
  /** Start with empty state, once per marker (SLUICE_DISCARD_STATE), for upgradeMode stateless. */
  discardState?: string;
}

export function podLabels(job: StreamJob): Record<string, string> {
  return { 'app.kubernetes.io/name': 'sluice-runtime', 'app.kubernetes.io/instance': job.metadata.name!, [jobLabel]: job.metadata.name! };
}

export function selectorOf(job: StreamJob): string {
  return Object.entries(podLabels(job))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function ownerReference(job: StreamJob): V1OwnerReference {
  return { apiVersion: job.apiVersion, kind: job.kind, name: job.metadata.name!, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * What names the job in Kafka (consumer group, transactional ids, changelog topics): namespace.name, so jobs of the
 * same name in two namespaces on one Kafka cluster stay apart.
 */
export function applicationId(job: StreamJob): string {
  return `${job.metadata.namespace!}.${job.metadata.name!}`;
}

export function controlSecretName(job: StreamJob): string {
  return `${job.metadata.name!}-control`;
}

/** One ConfigMap per runtime spec, never changed: a pod that restarts reads the spec it was deployed with. */
export function configMapName(job: StreamJob, hash: string): string {
  return `${job.metadata.name!}-job-${hash}`;
}

function metadata(
  job: StreamJob,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): V1ConfigMap['metadata'] {
  return {
    name,
    namespace: job.metadata.namespace!,
    labels: { ...podLabels(job), ...extra.labels },
    ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }),
    ownerReferences: [ownerReference(job)],
  };
}

export function controlSecret(job: StreamJob, token: string): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: metadata(job, controlSecretName(job)), type: 'Opaque', stringData: { token } };
}

export function jobConfigMap(job: StreamJob, deployment: Deployment): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(job, configMapName(job, deployment.hash), { annotations: { [specHashAnnotation]: deployment.hash } }),
    immutable: true,
    data: { 'job.yaml': stringify(jobManifest(job, deployment.spec)) },
  };
}

/** Headless: it gives each pod a stable DNS name; the controller reaches pods by their own addresses. */
export function headlessService(job: StreamJob): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(job, job.metadata.name!),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: podLabels(job), ports: [{ name: 'http', port: runtimePort, targetPort: 'http' }] },
  };
}

function value(name: RuntimeEnvName, text: string | undefined): V1EnvVar[] {
  return text === undefined || text === '' ? [] : [{ name, value: text }];
}

/** The mask steps' key (one per job: the compiler refuses two), from its Secret: the pod spec names the Secret, never the value. */
function maskKeyEnv(spec: StreamJobSpec): V1EnvVar[] {
  const ref = spec.pipeline?.find((step) => step.mask?.keySecretRef !== undefined)?.mask?.keySecretRef;
  return ref === undefined ? [] : [{ name: RUNTIME_ENV.maskKey, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }];
}

/** The schema registry's user and CA from the job's Secrets (keys username, password, ca.crt): the pod spec names the Secrets, never the values. */
function registryEnv(spec: StreamJobSpec): V1EnvVar[] {
  const registry = spec.connections?.schemaRegistry;
  const fromSecret = (name: RuntimeEnvName, secret: string | undefined, key: string): V1EnvVar[] =>
    secret === undefined ? [] : [{ name, valueFrom: { secretKeyRef: { name: secret, key } } }];
  return [
    ...fromSecret(RUNTIME_ENV.registryUser, registry?.basicAuthSecretRef?.name, 'username'),
    ...fromSecret(RUNTIME_ENV.registryPassword, registry?.basicAuthSecretRef?.name, 'password'),
    ...fromSecret(RUNTIME_ENV.registryCa, registry?.caSecretRef?.name, 'ca.crt'),
  ];
}

function runtimeEnv(job: StreamJob, deployment: Deployment, defaults: RuntimeDefaults): V1EnvVar[] {
  const { spec } = deployment;
  const s3 = spec.connections?.s3;
  const postgres = spec.connections?.postgres;
  const brokers = spec.connections?.kafka?.bootstrapServers ?? defaults.kafkaBrokers.join(',');
  // Under the controller's default location each job gets a folder of its own, so same-named jobs of two namespaces never share retention.
  const fallback =
    defaults.snapshotLocation === undefined ? undefined : `${defaults.snapshotLocation.replace(/\/+$/, '')}/${job.metadata.namespace!}/${job.metadata.name!}`;
  const checkpoints = checkpointLocation(spec, fallback);
  const savepoints = savepointLocation(spec, fallback);
  return [
    { name: RUNTIME_ENV.jobFile, value: `${jobFileDir}/job.yaml` },
    { name: RUNTIME_ENV.applicationId, value: applicationId(job) },
    { name: RUNTIME_ENV.kafkaBrokers, value: brokers },
    ...value(RUNTIME_ENV.kafkaSecretDir, spec.connections?.kafka?.secretRef === undefined ? undefined : kafkaSecretDir),
    { name: RUNTIME_ENV.podOrdinal, valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
    { name: RUNTIME_ENV.parallelism, value: String(Math.max(1, deployment.replicas)) },
    { name: RUNTIME_ENV.stateDir, value: stateDir },
    { name: RUNTIME_ENV.httpPort, value: String(runtimePort) },
    { name: RUNTIME_ENV.httpHost, value: '0.0.0.0' },
    { name: 'TMPDIR', value: tmpDir },
    { name: RUNTIME_ENV.controlToken, valueFrom: { secretKeyRef: { name: controlSecretName(job), key: 'token' } } },
    ...value(RUNTIME_ENV.snapshotLocation, checkpoints),
    ...value(RUNTIME_ENV.savepointLocation, savepoints),
    ...value(RUNTIME_ENV.checkpointInterval, checkpoints === undefined ? undefined : spec.checkpoints?.interval),
    ...value(RUNTIME_ENV.redisUrl, spec.connections?.redis?.url ?? defaults.redisUrl),
    ...value(RUNTIME_ENV.postgresUrl, postgres?.url),
    ...(postgres?.passwordSecretRef === undefined
      ? []
      : [{ name: RUNTIME_ENV.postgresPassword, valueFrom: { secretKeyRef: { name: postgres.passwordSecretRef.name, key: postgres.passwordSecretRef.key } } }]),
    ...maskKeyEnv(spec),
    ...registryEnv(spec),
    ...value(RUNTIME_ENV.s3Endpoint, s3?.endpoint),
    ...value(RUNTIME_ENV.s3Region, s3?.region),
    ...value(RUNTIME_ENV.s3ForcePathStyle, s3?.forcePathStyle === undefined ? undefined : String(s3.forcePathStyle)),
    ...(s3?.credentialsSecretRef === undefined
      ? []
      : [
          { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: s3.credentialsSecretRef.name, key: 'accessKeyId' } } },
          { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: s3.credentialsSecretRef.name, key: 'secretAccessKey' } } },
        ]),
    ...value(RUNTIME_ENV.restoreFrom, deployment.restoreFrom),
    ...value(RUNTIME_ENV.discardState, deployment.discardState),
  ];
}

/**
 * Parallel pod management (no pod waits for another) and OnDelete updates: the controller replaces pods itself, after
 * they stopped with a savepoint, so no pod of a new spec runs beside one of the old.
 */
export function statefulSet(job: StreamJob, deployment: Deployment, defaults: RuntimeDefaults): V1StatefulSet {
  const { spec } = deployment;
  const annotations = {
    [specHashAnnotation]: deployment.hash,
    [generationAnnotation]: String(deployment.generation),
    ...(spec.restartNonce === undefined ? {} : { [restartNonceAnnotation]: spec.restartNonce }),
    ...(deployment.restoreFrom === undefined ? {} : { [restoreFromAnnotation]: deployment.restoreFrom }),
  };
  const labels = podLabels(job);
  const { volumes, claims } = stateVolumes(spec.state?.volumeClaimTemplate);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(job, job.metadata.name!, {
      annotations: { ...annotations, ...(claims.length === 0 ? {} : { [volumeClaimAnnotation]: JSON.stringify(claims) }) },
    }),
    spec: {
      replicas: deployment.replicas,
      serviceName: job.metadata.name!,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...spec.podTemplate?.metadata?.labels, ...labels }, annotations: { ...spec.podTemplate?.metadata?.annotations, ...annotations } },
        spec: {
          terminationGracePeriodSeconds: 60,
          ...runtimePodSpec(
            {
              runtime: runtimeContainer(job, deployment, defaults),
              volumes: [{ name: 'job', configMap: { name: configMapName(job, deployment.hash) } }, ...kafkaSecretVolumes(spec), ...volumes],
              ...(spec.serviceAccountName === undefined ? {} : { serviceAccountName: spec.serviceAccountName }),
              ...(spec.resources === undefined ? {} : { resources: resourceRequirements(spec.resources) }),
            },
            spec.podTemplate?.spec,
          ),
        },
      },
      ...(claims.length === 0 ? {} : { volumeClaimTemplates: claims }),
    },
  };
}

/** Sluice's runtime container, before the podTemplate's runtime container is merged into it. */
function runtimeContainer(job: StreamJob, deployment: Deployment, defaults: RuntimeDefaults): V1Container {
  const { spec } = deployment;
  return {
    name: runtimeContainerName,
    image: spec.image ?? defaults.image,
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    ports: [{ name: 'http', containerPort: runtimePort }],
    env: runtimeEnv(job, deployment, defaults),
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
    // A runtime that fails logs one `failed` line and exits 1: the kubelet copies the log's tail into lastState.terminated.message, where the controller reads it.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: 'job', mountPath: jobFileDir, readOnly: true },
      ...(spec.connections?.kafka?.secretRef === undefined ? [] : [{ name: kafkaSecretVolume, mountPath: kafkaSecretDir, readOnly: true }]),
      { name: stateVolume, mountPath: stateDir },
      { name: tmpVolume, mountPath: tmpDir },
    ],
  };
}

/**
 * The Kafka Secret as a volume: the password and keys reach the pod as files, never through the pod spec, a ConfigMap
 * or the job's status; a rotated Secret's files are swapped in by the kubelet.
 */
function kafkaSecretVolumes(spec: StreamJobSpec): V1Volume[] {
  const secretRef = spec.connections?.kafka?.secretRef;
  return secretRef === undefined ? [] : [{ name: kafkaSecretVolume, secret: { secretName: secretRef.name } }];
}

/** Quantities as the API takes them: strings ("2", "512Mi"). */
function resourceRequirements(resources: NonNullable<StreamJobSpec['resources']>): V1ResourceRequirements {
  const quantities = (list: Record<string, number | string> | undefined): Record<string, string> | undefined =>
    list === undefined ? undefined : Object.fromEntries(Object.entries(list).map(([name, amount]) => [name, String(amount)]));
  const limits = quantities(resources.limits);
  const requests = quantities(resources.requests);
  return { ...(limits === undefined ? {} : { limits }), ...(requests === undefined ? {} : { requests }) };
}

/** The Kubernetes name of a changelog's Topic: the Kafka name made DNS-safe (the Topic's spec.topicName keeps the real one). */
function topicResourceName(topic: string): string {
  return topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .slice(0, 253);
}

/** A Topic per stateful operator's changelog, compacted, deleted with the job. */
export function changelogTopicResources(job: StreamJob, operatorIds: readonly string[], partitions: number): Topic[] {
  return changelogTopics(applicationId(job), operatorIds, partitions).map(({ topic, config }) => ({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'Topic',
    metadata: { name: topicResourceName(topic), namespace: job.metadata.namespace!, labels: podLabels(job), ownerReferences: [ownerReference(job)] },
    spec: { topicName: topic, partitions, ...(config === undefined ? {} : { config }), deletionPolicy: 'delete' },
  }));
}

/** A repartitioned job's topic between its two stages (ADR 0009): as many partitions as the source, deleted with the job. */
export function repartitionTopicResource(job: StreamJob, stepId: string, partitions: number): Topic {
  const topic = repartitionTopic(applicationId(job), { stepId });
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'Topic',
    metadata: { name: topicResourceName(topic), namespace: job.metadata.namespace!, labels: podLabels(job), ownerReferences: [ownerReference(job)] },
    spec: { topicName: topic, partitions, deletionPolicy: 'delete' },
  };
}
