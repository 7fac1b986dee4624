// connections.kafka's Secret as kafkajs options: which keys make TLS, SASL or both, and what a Secret that does not add up is told.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainKafkaError, kafkaConnectionOptions, readKafkaSecretDir } from './index.js';

const source = 'Secret payments/fraud-kafka';
const options = (settings: Record<string, string>) => kafkaConnectionOptions(settings, source);

describe('the Kafka Secret as connection options', () => {
  it('is plaintext without keys, TLS with a CA, SASL_SSL with a user, and mutual TLS with a certificate and key', () => {
    expect(options({})).toEqual({});
    expect(options({ 'ssl.ca': 'CA PEM' })).toEqual({ ssl: { ca: ['CA PEM'] } });
    expect(options({ 'sasl.mechanism': 'scram-sha-512', 'sasl.username': 'fraud', 'sasl.password': 'pw' })).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'fraud', password: 'pw' },
    });
    expect(
      options({ 'ssl.ca': 'CA', 'ssl.certificate': 'CERT', 'ssl.key': 'KEY', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p' }),
    ).toEqual({
      ssl: { ca: ['CA'], cert: 'CERT', key: 'KEY' },
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
    });
    // A password goes in the clear only when the Secret asks for it by name.
    expect(options({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'u', 'sasl.password': 'p' })).toEqual({
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
    });
  });

  it('names the key at fault and what to set', () => {
    expect(() => options({ 'sasl.username': 'u', 'sasl.password': 'p' })).toThrow(
      `${source}: sasl.mechanism is not set: set it to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
    );
    expect(() => options({ 'sasl.mechanism': 'GSSAPI', 'sasl.username': 'u', 'sasl.password': 'p' })).toThrow(
      /sasl\.mechanism is GSSAPI: Sluice speaks PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512/,
    );
    expect(() => options({ 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u' })).toThrow(/needs sasl\.username and sasl\.password: set both/);
    expect(() => options({ 'ssl.certificate': 'CERT' })).toThrow(/needs both ssl\.certificate and ssl\.key/);
    expect(() => options({ 'security.protocol': 'PLAINTEXT', 'ssl.ca': 'CA' })).toThrow(/TLS keys are set: set it to SSL or SASL_SSL/);
    expect(() => options({ 'security.protocol': 'SSH' })).toThrow(/security\.protocol is SSH: set it to one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
  });

  it('reads a mounted Secret’s keys and skips the kubelet’s own entries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-secret-'));
    try {
      // The kubelet's layout: the files live in a dated folder, ..data points at it, each key is a link through ..data.
      mkdirSync(join(dir, '..2026_12_07_20_00_00.1'));
      writeFileSync(join(dir, '..2026_12_07_20_00_00.1', 'sasl.password'), 's3cret');
      symlinkSync('..2026_12_07_20_00_00.1', join(dir, '..data'));
      symlinkSync(join('..data', 'sasl.password'), join(dir, 'sasl.password'));
      expect(readKafkaSecretDir(dir)).toEqual({ 'sasl.password': 's3cret' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a Kafka refusal explained', () => {
  const listener = {
    brokers: ['kafka:9093'],
    connection: options({ 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'fraud', 'sasl.password': 'pw', 'ssl.ca': 'CA' }),
  };

  it('names the user and listener of a failed sign-in, and never the password', () => {
    const failed = Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), { name: 'KafkaJSSASLAuthenticationError' });
    const explained = explainKafkaError(failed, listener) as Error & { retriable: boolean };
    expect(explained.message).toBe(
      'authentication failed for user fraud on the SASL_SSL listener kafka:9093 (SCRAM-SHA-512): check sasl.username, sasl.password and sasl.mechanism in the Kafka Secret',
    );
    expect(explained.retriable).toBe(false);
  });

  it('names the operation and resource of a missing ACL, found in a wrapped error', () => {
    const refused = Object.assign(new Error('retries exhausted'), {
      cause: Object.assign(new Error('Not authorized'), { type: 'TOPIC_AUTHORIZATION_FAILED' }),
    });
    const explained = explainKafkaError(refused, listener, [
      { kind: 'group', operation: 'READ', names: ['sluice-fraud'] },
      { kind: 'topic', operation: 'WRITE', names: ['fraud-features'] },
    ]) as Error;
    expect(explained.message).toBe(
      'Kafka refused user fraud WRITE on topic fraud-features (TOPIC_AUTHORIZATION_FAILED) on the SASL_SSL listener kafka:9093: grant User:fraud that ACL (docs/security.md lists the ACLs a job needs)',
    );
  });
});
