// The environment contract between the controller and the runtime: the variables the controller sets on a StreamJob's pods and the runtime reads.

/** Each variable's name, by what it tells the runtime pod. */
export const RUNTIME_ENV = {
  /** The path of the StreamJob manifest (YAML or JSON) the pod runs. */
  jobFile: 'SLUICE_JOB_FILE',
  /** What names the job in Kafka: consumer group, transactional ids, changelog topics; the job's name when unset. */
  applicationId: 'SLUICE_APPLICATION_ID',
  /** The Kafka bootstrap servers, comma-separated host:port. */
  kafkaBrokers: 'SLUICE_KAFKA_BROKERS',
  /** The folder the Secret of connections.kafka.secretRef is mounted in: TLS and SASL settings, one file per key. */
  kafkaSecretDir: 'SLUICE_KAFKA_SECRET_DIR',
  /** The pod's index in the StatefulSet, which decides the source partitions it owns; else its hostname's suffix. */
  podOrdinal: 'SLUICE_POD_ORDINAL',
  /** How many pods the job runs on (the same on every pod). */
  parallelism: 'SLUICE_PARALLELISM',
  /** The folder of the pod's local state store. */
  stateDir: 'SLUICE_STATE_DIR',
  /** The port of health, metrics and the control API. */
  httpPort: 'SLUICE_HTTP_PORT',
  /** The address the HTTP server binds: loopback by default, 0.0.0.0 in a pod. */
  httpHost: 'SLUICE_HTTP_HOST',
  /** The control API's bearer token (the job's Secret); without one the control API answers 503. */
  controlToken: 'SLUICE_CONTROL_TOKEN',
  /** Where checkpoints go, and savepoints unless savepointLocation says otherwise: s3://bucket/prefix or a folder. */
  snapshotLocation: 'SLUICE_SNAPSHOT_LOCATION',
  /** Where savepoints go: s3://bucket/prefix or a folder. */
  savepointLocation: 'SLUICE_SAVEPOINT_LOCATION',
  /** How often a checkpoint is taken, a duration such as 1m. */
  checkpointInterval: 'SLUICE_CHECKPOINT_INTERVAL',
  /** The redis:// URL of the feature store that Redis sinks write to. */
  redisUrl: 'SLUICE_REDIS_URL',
  /** The postgres://user@host:port/database URL that PostgreSQL sinks write to (connections.postgres.url), without a password. */
  postgresUrl: 'SLUICE_POSTGRES_URL',
  /** The PostgreSQL password, from the Secret of connections.postgres.passwordSecretRef; never logged. */
  postgresPassword: 'SLUICE_POSTGRES_PASSWORD',
  /** The key of the job's hmac and tokenise mask fields, from the Secret of the mask steps' keySecretRef; never logged. */
  maskKey: 'SLUICE_MASK_KEY',
  /** The schema registry user, from the Secret of connections.schemaRegistry.basicAuthSecretRef (key username). */
  registryUser: 'SLUICE_REGISTRY_USER',
  /** Its password (key password); never logged. */
  registryPassword: 'SLUICE_REGISTRY_PASSWORD',
  /** PEM certificates of the CAs that sign the registry's certificate, from connections.schemaRegistry.caSecretRef (key ca.crt). */
  registryCa: 'SLUICE_REGISTRY_CA',
  /** The S3 server's http(s):// address; AWS when unset. */
  s3Endpoint: 'SLUICE_S3_ENDPOINT',
  /** The S3 region. */
  s3Region: 'SLUICE_S3_REGION',
  /** true or false: address buckets in the path (MinIO and most S3-compatible servers) rather than the host name. */
  s3ForcePathStyle: 'SLUICE_S3_FORCE_PATH_STYLE',
  /** A snapshot to start from instead of the last commit: a rollback to a savepoint. */
  restoreFrom: 'SLUICE_RESTORE_FROM',
  /** A stateless upgrade's marker: start from the committed offsets with empty state, once per marker. */
  discardState: 'SLUICE_DISCARD_STATE',
} as const;

export type RuntimeEnvName = (typeof RUNTIME_ENV)[keyof typeof RUNTIME_ENV];
