import { ConfigError, readConfig } from './config.js';

const base = { SLUICE_JOB_FILE: '/etc/sluice/job.yaml', SLUICE_KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092' };

describe('the runtime’s settings from its environment', () => {
  it('takes the ordinal from the StatefulSet hostname when SLUICE_POD_ORDINAL is absent', () => {
    const config = readConfig({ ...base, SLUICE_PARALLELISM: '3' }, 'fraud-velocity-2');
    expect(config).toMatchObject({ ordinal: 2, parallelism: 3, brokers: ['kafka-0:9092', 'kafka-1:9092'], httpPort: 8080, httpHost: '127.0.0.1', endMarkers: false });
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
});
