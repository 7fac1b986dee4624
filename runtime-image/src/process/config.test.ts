import { RUNTIME_ENV } from '@sluice/crds';
import { ConfigError, readConfig } from './config.js';

const base = { SLUICE_JOB_FILE: '/etc/sluice/job.yaml', SLUICE_KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092' };

describe('the runtime’s settings from its environment', () => {
  it('takes the ordinal from the StatefulSet hostname when SLUICE_POD_ORDINAL is absent', () => {
    const config = readConfig({ ...base, SLUICE_PARALLELISM: '3' }, 'fraud-velocity-2');
    expect(config).toMatchObject({
      ordinal: 2,
      parallelism: 3,
      brokers: ['kafka-0:9092', 'kafka-1:9092'],
      httpPort: 8080,
      httpHost: '127.0.0.1',
      endMarkers: false,
    });
  });

  it('prefers SLUICE_POD_ORDINAL', () => {
    expect(readConfig({ ...base, SLUICE_PARALLELISM: '2', SLUICE_POD_ORDINAL: '1' }, 'laptop').ordinal).toBe(1);
  });

  it('names the variable to set when something is missing or wrong', () => {
    expect(() => readConfig({ SLUICE_KAFKA_BROKERS: 'k:9092', SLUICE_POD_ORDINAL: '0' }, 'h')).toThrow(/SLUICE_JOB_FILE is not set/);
    expect(() => readConfig(base, 'laptop')).toThrow(/set SLUICE_POD_ORDINAL/);
    expect(() => readConfig({ ...base, SLUICE_PARALLELISM: '2' }, 'job-2')).toThrow(/ordinal 2 is not below SLUICE_PARALLELISM=2/);
    expect(() => readConfig({ ...base, SLUICE_PARALLELISM: 'two' }, 'job-0')).toThrow(ConfigError);
  });

  it('takes the S3 settings and the savepoint location, which falls back to the snapshot location', () => {
    const config = readConfig(
      {
        ...base,
        SLUICE_SNAPSHOT_LOCATION: 's3://sluice/checkpoints',
        SLUICE_S3_ENDPOINT: 'http://minio:9000',
        SLUICE_S3_REGION: 'eu-west-1',
        SLUICE_S3_FORCE_PATH_STYLE: 'true',
      },
      'job-0',
    );
    expect(config).toMatchObject({
      snapshotLocation: 's3://sluice/checkpoints',
      savepointLocation: 's3://sluice/checkpoints',
      s3: { endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true },
    });
    const apart = readConfig(
      {
        ...base,
        SLUICE_SNAPSHOT_LOCATION: 's3://sluice/checkpoints',
        SLUICE_SAVEPOINT_LOCATION: 's3://sluice/savepoints',
        SLUICE_S3_FORCE_PATH_STYLE: 'false',
      },
      'job-0',
    );
    expect(apart).toMatchObject({ snapshotLocation: 's3://sluice/checkpoints', savepointLocation: 's3://sluice/savepoints', s3: { forcePathStyle: false } });
    expect(readConfig({ ...base, SLUICE_S3_ENDPOINT: '', SLUICE_SAVEPOINT_LOCATION: '' }, 'job-0')).toMatchObject({
      s3: {},
      snapshotLocation: undefined,
      savepointLocation: undefined,
    });
  });

  it('says which S3 or location setting is wrong', () => {
    expect(() => readConfig({ ...base, SLUICE_S3_FORCE_PATH_STYLE: 'yes' }, 'job-0')).toThrow(/SLUICE_S3_FORCE_PATH_STYLE=yes is neither true nor false/);
    expect(() => readConfig({ ...base, SLUICE_S3_ENDPOINT: 'minio:9000' }, 'job-0')).toThrow(/SLUICE_S3_ENDPOINT=minio:9000 is not an http/);
    expect(() => readConfig({ ...base, SLUICE_SAVEPOINT_LOCATION: 's3://Bad_Bucket/x' }, 'job-0')).toThrow(
      /^SLUICE_SAVEPOINT_LOCATION: .*is not an S3 location/,
    );
    expect(() => readConfig({ ...base, SLUICE_SNAPSHOT_LOCATION: 'gs://bucket' }, 'job-0')).toThrow(/^SLUICE_SNAPSHOT_LOCATION: /);
    expect(() => readConfig({ ...base, SLUICE_S3_TIMEOUT: 'soon' }, 'job-0')).toThrow(/SLUICE_S3_TIMEOUT=soon is not a positive duration/);
  });

  it('bounds S3 requests by SLUICE_S3_TIMEOUT, the connection by at most 5 s', () => {
    expect(readConfig({ ...base, SLUICE_S3_TIMEOUT: '2s' }, 'job-0').s3).toEqual({ timeouts: { idleMs: 2_000, connectMs: 2_000 } });
    expect(readConfig({ ...base, SLUICE_S3_TIMEOUT: '1m' }, 'job-0').s3).toEqual({ timeouts: { idleMs: 60_000, connectMs: 5_000 } });
    expect(readConfig(base, 'job-0').s3.timeouts).toBeUndefined();
  });

  it('starts from a savepoint or with empty state, not both', () => {
    expect(readConfig({ ...base, SLUICE_DISCARD_STATE: 'upgrade-7' }, 'job-0')).toMatchObject({ discardState: 'upgrade-7', restoreFrom: undefined });
    expect(readConfig({ ...base, SLUICE_RESTORE_FROM: 's3://sluice/savepoints/sp-1' }, 'job-0')).toMatchObject({
      discardState: undefined,
      restoreFrom: 's3://sluice/savepoints/sp-1',
    });
    expect(() => readConfig({ ...base, SLUICE_DISCARD_STATE: 'upgrade-7', SLUICE_RESTORE_FROM: '/savepoints/sp-1' }, 'job-0')).toThrow(/both set/);
    expect(() => readConfig({ ...base, SLUICE_DISCARD_STATE: 'x'.repeat(201) }, 'job-0')).toThrow(/SLUICE_DISCARD_STATE is 201 characters long/);
  });

  it('names the job in Kafka by SLUICE_APPLICATION_ID when given, and refuses a name Kafka would not take', () => {
    expect(readConfig({ ...base, SLUICE_APPLICATION_ID: 'payments.fraud-velocity' }, 'job-0').applicationId).toBe('payments.fraud-velocity');
    expect(readConfig(base, 'job-0').applicationId).toBeUndefined();
    expect(() => readConfig({ ...base, SLUICE_APPLICATION_ID: 'payments/fraud' }, 'job-0')).toThrow(/SLUICE_APPLICATION_ID=payments\/fraud may hold only/);
  });
});

describe('the environment contract with the controller', () => {
  /** A valid value for each variable, other than what the baseline below gives or defaults to. */
  const samples: Record<keyof typeof RUNTIME_ENV, string> = {
    jobFile: '/etc/sluice/job/job.yaml',
    applicationId: 'payments.fraud',
    kafkaBrokers: 'kafka:9092',
    kafkaSecretDir: '/var/run/secrets/sluice/kafka',
    podOrdinal: '2',
    parallelism: '3',
    stateDir: '/var/lib/sluice/other',
    httpPort: '9090',
    httpHost: '0.0.0.0',
    controlToken: 'token',
    snapshotLocation: 's3://state/fraud',
    savepointLocation: 's3://state/fraud-savepoints',
    checkpointInterval: '1m',
    redisUrl: 'redis://redis:6379',
    postgresUrl: 'postgres://sluice@postgres:5432/features',
    postgresPassword: 'secret',
    maskKey: 'a-mask-key',
    registryUser: 'fraud-velocity',
    registryPassword: 'r-77c1',
    registryCa: '-----BEGIN CERTIFICATE-----',
    s3Endpoint: 'http://minio:9000',
    s3Region: 'eu-west-1',
    s3ForcePathStyle: 'true',
    restoreFrom: 's3://state/fraud/savepoints/sp-1',
    discardState: '3',
  };
  const baseline = { ...base, SLUICE_PARALLELISM: '4' };

  it.each(Object.entries(RUNTIME_ENV).map(([key, name]) => [name, key as keyof typeof RUNTIME_ENV] as const))(
    'reads %s, which the controller sets on runtime pods',
    (name, key) => {
      expect(readConfig({ ...baseline, [name]: samples[key] }, 'fraud-0')).not.toEqual(readConfig(baseline, 'fraud-0'));
    },
  );
});
