// The runtime process's settings, from its environment (the StatefulSet's pod spec), checked with messages that name the variable.
import { hostname } from 'node:os';
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
  /** Where checkpoints and savepoints go (s3://bucket/prefix or a folder). */
  snapshotLocation: string | undefined;
  /** A snapshot to start from instead of the last commit (SLUICE_RESTORE_FROM), to roll the job back to a savepoint. */
  restoreFrom: string | undefined;
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

export function readConfig(env: Env = process.env, host: string = hostname()): RuntimeConfig {
  const parallelism = whole('SLUICE_PARALLELISM', env.SLUICE_PARALLELISM ?? '1', 1);
  const ordinal = ordinalOf(env, host);
  if (ordinal >= parallelism) throw new ConfigError(`the pod ordinal ${ordinal} is not below SLUICE_PARALLELISM=${parallelism}: every pod of a job must be given the job's parallelism`);
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
    snapshotLocation: env.SLUICE_SNAPSHOT_LOCATION === '' ? undefined : env.SLUICE_SNAPSHOT_LOCATION,
    restoreFrom: env.SLUICE_RESTORE_FROM === '' ? undefined : env.SLUICE_RESTORE_FROM,
    endMarkers: env.SLUICE_END_MARKERS === 'true',
    checkpointIntervalMs: checkpointInterval(env.SLUICE_CHECKPOINT_INTERVAL),
    maxBytesPerPartition: env.SLUICE_MAX_BYTES_PER_PARTITION ? whole('SLUICE_MAX_BYTES_PER_PARTITION', env.SLUICE_MAX_BYTES_PER_PARTITION, 1024) : undefined,
  };
}
