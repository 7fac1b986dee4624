// The runtime process's settings, from its environment (the StatefulSet's pod spec), checked with messages that name the variable.
import { hostname } from 'node:os';
import type { Level } from 'pino';
import { RUNTIME_ENV } from '@sluice/crds';
import { SluiceError } from '@sluice/crds/errors';
import { registryConnectionFromEnv, type RegistryConnection } from '@sluice/crds/registry-connection';
import { messageOf } from '../error-message.js';
import { REGISTRY_CREDENTIALS_SOURCE } from '../serde/registry-client.js';
import { parseLocation } from '../snapshot/location.js';
import { S3_TIMEOUTS, type S3Settings } from '../snapshot/s3-storage.js';
import { toMillis } from '../time/duration.js';
import { LOG_LEVELS } from './log.js';

export interface RuntimeConfig {
  jobFile: string;
  brokers: string[];
  /** The folder the Kafka Secret (TLS and SASL settings) is mounted in; plaintext without. */
  kafkaSecretDir: string | undefined;
  ordinal: number;
  parallelism: number;
  stateDir: string;
  httpPort: number;
  /** The address the HTTP server binds: loopback by default; 0.0.0.0 in a pod, for probes, Prometheus and the controller. */
  httpHost: string;
  /** The control API's bearer token; without one the control API answers 503, so it is never open by accident. */
  controlToken: string | undefined;
  redisUrl: string | undefined;
  /** Where PostgreSQL sinks write (SLUICE_POSTGRES_URL), and the password (SLUICE_POSTGRES_PASSWORD, else the url's or PGPASSWORD). */
  postgresUrl: string | undefined;
  postgresPassword: string | undefined;
  /** The key of the job's hmac and tokenise mask fields (SLUICE_MASK_KEY, its UTF-8 bytes); never logged. */
  maskKey: string | undefined;
  /** The schema registry's user and CA (SLUICE_REGISTRY_USER, _PASSWORD, _CA), checked at start; the serdes' registry clients use them. */
  registry: RegistryConnection;
  /** Where checkpoints go (s3://bucket/prefix or a folder), and savepoints too unless savepointLocation says otherwise. */
  snapshotLocation: string | undefined;
  /** Where savepoints go (SLUICE_SAVEPOINT_LOCATION); snapshotLocation when not set. */
  savepointLocation: string | undefined;
  /** How the pod reaches S3 for s3:// locations; credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID, …). */
  s3: S3Settings;
  /** A snapshot to start from instead of the last commit (SLUICE_RESTORE_FROM), to roll the job back to a savepoint. */
  restoreFrom: string | undefined;
  /** A marker of a stateless upgrade (SLUICE_DISCARD_STATE): start from the committed offsets with empty state, once. */
  discardState: string | undefined;
  /** What names the job in Kafka (SLUICE_APPLICATION_ID: consumer group, transactional ids, changelogs); the job's name when unset. */
  applicationId: string | undefined;
  /** A bounded run over Kafka: stop at a `sluice.end-of-input` message in every partition. */
  endMarkers: boolean;
  /** How often a checkpoint is taken (SLUICE_CHECKPOINT_INTERVAL, a duration such as 1m), when there is a snapshot location. */
  checkpointIntervalMs: number | undefined;
  /** Caps each fetch per partition (SLUICE_MAX_BYTES_PER_PARTITION): smaller batches, more commits per record. */
  maxBytesPerPartition: number | undefined;
  /** A repartitioned job: how often its repartition topic's read records are deleted (SLUICE_REPARTITION_PURGE_INTERVAL_MS; 0 never). */
  repartitionPurgeIntervalMs?: number | undefined;
}

export class ConfigError extends SluiceError {
  override readonly code = 'SLUICE_E_CONFIG';
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is not set: set it to ${what}`);
  return value;
}

function whole(name: string, value: string, min: number): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min) throw new ConfigError(`${name}=${value} is not a whole number ≥ ${min}`);
  return number;
}

/** SLUICE_POD_ORDINAL, or the suffix a StatefulSet gives its pods' hostnames (`fraud-velocity-2` → 2). */
function ordinalOf(env: Env, host: string): number {
  const explicit = env[RUNTIME_ENV.podOrdinal];
  if (explicit !== undefined && explicit !== '') return whole(RUNTIME_ENV.podOrdinal, explicit, 0);
  const suffix = /-(\d+)$/.exec(host)?.[1];
  if (suffix === undefined)
    throw new ConfigError(
      `${RUNTIME_ENV.podOrdinal} is not set and the hostname ${host} has no StatefulSet ordinal suffix (-0, -1, …): set ${RUNTIME_ENV.podOrdinal}`,
    );
  return Number(suffix);
}

function checkpointInterval(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const ms = toMillis(value);
    if (ms > 0) return ms;
  } catch {
    // Reported below with the variable's name.
  }
  throw new ConfigError(`${RUNTIME_ENV.checkpointInterval}=${value} is not a positive duration such as 30s or 5m`);
}

/** Unset and empty are the same: a pod spec writes `value: ""` for an absent setting. */
function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Kafka names topics and groups with letters, digits, '.', '_' and '-'; the id goes into both. */
function applicationId(env: Env): string | undefined {
  const value = optional(env, RUNTIME_ENV.applicationId);
  if (value !== undefined && !/^[A-Za-z0-9._-]{1,200}$/.test(value)) {
    throw new ConfigError(
      `${RUNTIME_ENV.applicationId}=${value} may hold only letters, digits, '.', '_' and '-' (at most 200): it names Kafka topics and groups`,
    );
  }
  return value;
}

function location(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  try {
    parseLocation(value);
  } catch (error) {
    throw new ConfigError(`${name}: ${messageOf(error)}`);
  }
  return value;
}

/** How the pod reaches S3 (SLUICE_S3_ENDPOINT, SLUICE_S3_REGION, SLUICE_S3_FORCE_PATH_STYLE, SLUICE_S3_TIMEOUT); streamctl run reads the same. */
export function s3Settings(env: Env): S3Settings {
  const endpoint = optional(env, RUNTIME_ENV.s3Endpoint);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigError(
      `${RUNTIME_ENV.s3Endpoint}=${endpoint} is not an http:// or https:// URL: set it to the S3 server's address, or leave it unset for AWS`,
    );
  }
  const pathStyle = optional(env, RUNTIME_ENV.s3ForcePathStyle);
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new ConfigError(`${RUNTIME_ENV.s3ForcePathStyle}=${pathStyle} is neither true nor false`);
  }
  const region = optional(env, RUNTIME_ENV.s3Region);
  const timeout = s3Timeout(optional(env, 'SLUICE_S3_TIMEOUT'));
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(pathStyle === undefined ? {} : { forcePathStyle: pathStyle === 'true' }),
    ...(timeout === undefined ? {} : { timeouts: { idleMs: timeout, connectMs: Math.min(timeout, S3_TIMEOUTS.connectMs) } }),
  };
}

/** SLUICE_S3_TIMEOUT: how long an S3 request may go without an answer before it is tried again (3 tries in all). */
function s3Timeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    const ms = toMillis(value);
    if (ms > 0) return ms;
  } catch {
    // Reported below with the variable's name.
  }
  throw new ConfigError(`SLUICE_S3_TIMEOUT=${value} is not a positive duration such as 10s`);
}

/** SLUICE_LOG_LEVEL: how much the pod logs; info unless set, warn keeps only what went wrong. */
export function readLogLevel(env: Env = process.env): Level {
  const value = optional(env, 'SLUICE_LOG_LEVEL');
  if (value === undefined) return 'info';
  const level = LOG_LEVELS.find((known) => known === value);
  if (level === undefined) throw new ConfigError(`SLUICE_LOG_LEVEL=${value} is not a log level: set it to one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** The offset metadata that records the marker has room for a few hundred bytes (Kafka's offset.metadata.max.bytes is 4096). */
const MARKER_MAX_LENGTH = 200;

function startingPoint(env: Env): { restoreFrom: string | undefined; discardState: string | undefined } {
  const restoreFrom = location(env, RUNTIME_ENV.restoreFrom);
  const discardState = optional(env, RUNTIME_ENV.discardState);
  if (restoreFrom !== undefined && discardState !== undefined) {
    throw new ConfigError(
      `${RUNTIME_ENV.restoreFrom} and ${RUNTIME_ENV.discardState} are both set: a pod starts either from a savepoint or with empty state, set one of them`,
    );
  }
  if (discardState !== undefined && discardState.length > MARKER_MAX_LENGTH) {
    throw new ConfigError(
      `${RUNTIME_ENV.discardState} is ${discardState.length} characters long: give a marker of at most ${MARKER_MAX_LENGTH} (such as the upgrade's generation)`,
    );
  }
  return { restoreFrom, discardState };
}

export function readConfig(env: Env = process.env, host: string = hostname()): RuntimeConfig {
  const parallelism = whole(RUNTIME_ENV.parallelism, env[RUNTIME_ENV.parallelism] ?? '1', 1);
  const ordinal = ordinalOf(env, host);
  if (ordinal >= parallelism)
    throw new ConfigError(
      `the pod ordinal ${ordinal} is not below ${RUNTIME_ENV.parallelism}=${parallelism}: every pod of a job must be given the job's parallelism`,
    );
  const snapshotLocation = location(env, RUNTIME_ENV.snapshotLocation);
  return {
    jobFile: required(env, RUNTIME_ENV.jobFile, 'the path of the StreamJob manifest (YAML or JSON) to run'),
    brokers: required(env, RUNTIME_ENV.kafkaBrokers, 'the Kafka bootstrap servers, comma-separated (host:port,host:port)')
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker !== ''),
    kafkaSecretDir: optional(env, RUNTIME_ENV.kafkaSecretDir),
    ordinal,
    parallelism,
    stateDir: env[RUNTIME_ENV.stateDir] ?? '/var/lib/sluice/state',
    httpPort: whole(RUNTIME_ENV.httpPort, env[RUNTIME_ENV.httpPort] ?? '8080', 0),
    httpHost: optional(env, RUNTIME_ENV.httpHost) ?? '127.0.0.1',
    controlToken: optional(env, RUNTIME_ENV.controlToken),
    redisUrl: optional(env, RUNTIME_ENV.redisUrl),
    postgresUrl: optional(env, RUNTIME_ENV.postgresUrl),
    postgresPassword: optional(env, RUNTIME_ENV.postgresPassword),
    maskKey: optional(env, RUNTIME_ENV.maskKey),
    registry: registryConnectionFromEnv(env, REGISTRY_CREDENTIALS_SOURCE),
    snapshotLocation,
    savepointLocation: location(env, RUNTIME_ENV.savepointLocation) ?? snapshotLocation,
    s3: s3Settings(env),
    ...startingPoint(env),
    applicationId: applicationId(env),
    endMarkers: env.SLUICE_END_MARKERS === 'true',
    checkpointIntervalMs: checkpointInterval(env[RUNTIME_ENV.checkpointInterval]),
    maxBytesPerPartition: env.SLUICE_MAX_BYTES_PER_PARTITION ? whole('SLUICE_MAX_BYTES_PER_PARTITION', env.SLUICE_MAX_BYTES_PER_PARTITION, 1024) : undefined,
    repartitionPurgeIntervalMs: env.SLUICE_REPARTITION_PURGE_INTERVAL_MS
      ? whole('SLUICE_REPARTITION_PURGE_INTERVAL_MS', env.SLUICE_REPARTITION_PURGE_INTERVAL_MS, 0)
      : undefined,
  };
}
