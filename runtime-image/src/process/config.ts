// The runtime process's settings, from its environment (the StatefulSet's pod spec), checked with messages that name the variable.
import { hostname } from 'node:os';
import { parseLocation } from '../snapshot/location.js';
import { S3_TIMEOUTS, type S3Settings } from '../snapshot/s3-storage.js';
import { toMillis } from '../time/duration.js';

export interface RuntimeConfig {
  jobFile: string;
  brokers: string[];
  ordinal: number;
  parallelism: number;
  stateDir: string;
  httpPort: number;
  /** The address the HTTP server binds: loopback by default; 0.0.0.0 in a pod, for probes, Prometheus and the controller. */
  httpHost: string;
  /** The control API's bearer token; without one the control API answers 503, so it is never open by accident. */
  controlToken: string | undefined;
  redisUrl: string | undefined;
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
}

export class ConfigError extends Error {
  readonly code = 'SLUICE_E_CONFIG';
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
  const explicit = env.SLUICE_POD_ORDINAL;
  if (explicit !== undefined && explicit !== '') return whole('SLUICE_POD_ORDINAL', explicit, 0);
  const suffix = /-(\d+)$/.exec(host)?.[1];
  if (suffix === undefined) throw new ConfigError(`SLUICE_POD_ORDINAL is not set and the hostname ${host} has no StatefulSet ordinal suffix (-0, -1, …): set SLUICE_POD_ORDINAL`);
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
  throw new ConfigError(`SLUICE_CHECKPOINT_INTERVAL=${value} is not a positive duration such as 30s or 5m`);
}

/** Unset and empty are the same: a pod spec writes `value: ""` for an absent setting. */
function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Kafka names topics and groups with letters, digits, '.', '_' and '-'; the id goes into both. */
function applicationId(env: Env): string | undefined {
  const value = optional(env, 'SLUICE_APPLICATION_ID');
  if (value !== undefined && !/^[A-Za-z0-9._-]{1,200}$/.test(value)) {
    throw new ConfigError(`SLUICE_APPLICATION_ID=${value} may hold only letters, digits, '.', '_' and '-' (at most 200): it names Kafka topics and groups`);
  }
  return value;
}

function location(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  try {
    parseLocation(value);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
  return value;
}

function s3Settings(env: Env): S3Settings {
  const endpoint = optional(env, 'SLUICE_S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigError(`SLUICE_S3_ENDPOINT=${endpoint} is not an http:// or https:// URL: set it to the S3 server's address, or leave it unset for AWS`);
  }
  const pathStyle = optional(env, 'SLUICE_S3_FORCE_PATH_STYLE');
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new ConfigError(`SLUICE_S3_FORCE_PATH_STYLE=${pathStyle} is neither true nor false`);
  }
  const region = optional(env, 'SLUICE_S3_REGION');
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

/** The offset metadata that records the marker has room for a few hundred bytes (Kafka's offset.metadata.max.bytes is 4096). */
const MARKER_MAX_LENGTH = 200;

function startingPoint(env: Env): { restoreFrom: string | undefined; discardState: string | undefined } {
  const restoreFrom = location(env, 'SLUICE_RESTORE_FROM');
  const discardState = optional(env, 'SLUICE_DISCARD_STATE');
  if (restoreFrom !== undefined && discardState !== undefined) {
    throw new ConfigError('SLUICE_RESTORE_FROM and SLUICE_DISCARD_STATE are both set: a pod starts either from a savepoint or with empty state, set one of them');
  }
  if (discardState !== undefined && discardState.length > MARKER_MAX_LENGTH) {
    throw new ConfigError(`SLUICE_DISCARD_STATE is ${discardState.length} characters long: give a marker of at most ${MARKER_MAX_LENGTH} (such as the upgrade's generation)`);
  }
  return { restoreFrom, discardState };
}

export function readConfig(env: Env = process.env, host: string = hostname()): RuntimeConfig {
  const parallelism = whole('SLUICE_PARALLELISM', env.SLUICE_PARALLELISM ?? '1', 1);
  const ordinal = ordinalOf(env, host);
  if (ordinal >= parallelism) throw new ConfigError(`the pod ordinal ${ordinal} is not below SLUICE_PARALLELISM=${parallelism}: every pod of a job must be given the job's parallelism`);
  const snapshotLocation = location(env, 'SLUICE_SNAPSHOT_LOCATION');
  return {
    jobFile: required(env, 'SLUICE_JOB_FILE', 'the path of the StreamJob manifest (YAML or JSON) to run'),
    brokers: required(env, 'SLUICE_KAFKA_BROKERS', 'the Kafka bootstrap servers, comma-separated (host:port,host:port)')
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker !== ''),
    ordinal,
    parallelism,
    stateDir: env.SLUICE_STATE_DIR ?? '/var/lib/sluice/state',
    httpPort: whole('SLUICE_HTTP_PORT', env.SLUICE_HTTP_PORT ?? '8080', 0),
    httpHost: env.SLUICE_HTTP_HOST === undefined || env.SLUICE_HTTP_HOST === '' ? '127.0.0.1' : env.SLUICE_HTTP_HOST,
    controlToken: env.SLUICE_CONTROL_TOKEN === '' ? undefined : env.SLUICE_CONTROL_TOKEN,
    redisUrl: env.SLUICE_REDIS_URL === '' ? undefined : env.SLUICE_REDIS_URL,
    snapshotLocation,
    savepointLocation: location(env, 'SLUICE_SAVEPOINT_LOCATION') ?? snapshotLocation,
    s3: s3Settings(env),
    ...startingPoint(env),
    applicationId: applicationId(env),
    endMarkers: env.SLUICE_END_MARKERS === 'true',
    checkpointIntervalMs: checkpointInterval(env.SLUICE_CHECKPOINT_INTERVAL),
    maxBytesPerPartition: env.SLUICE_MAX_BYTES_PER_PARTITION ? whole('SLUICE_MAX_BYTES_PER_PARTITION', env.SLUICE_MAX_BYTES_PER_PARTITION, 1024) : undefined,
  };
}
