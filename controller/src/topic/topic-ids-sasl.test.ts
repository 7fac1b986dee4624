// Topic ids read over the test broker's SASL_SSL listener: the controller's own socket signs in with SCRAM or PLAIN over TLS, as its kafkajs admin does.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaConnectionOptions } from '@sluice/crds';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import type { KafkaSaslEndpoint } from '../../../test/env/src/service.js';
import { KafkaTopicIds } from './topic-ids.js';

const { brokers, sasl: listener } = readEndpoints().kafka as { brokers: string[]; sasl: KafkaSaslEndpoint };
const ca = readFileSync(listener.ca, 'utf8');
const admin = listener.admin;
const secret = (mechanism: string, password: string) =>
  kafkaConnectionOptions({ 'sasl.mechanism': mechanism, 'sasl.username': admin, 'sasl.password': password, 'ssl.ca': ca }, 'the test Secret');

describe('topic ids over SASL_SSL', () => {
  const topic = `topic-ids-sasl-${randomUUID()}`;
  let id: string | undefined;

  beforeAll(async () => {
    const client = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await client.connect();
    try {
      await client.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    } finally {
      await client.disconnect();
    }
    id = (await new KafkaTopicIds(brokers).idsOf([topic])).get(topic);
  });

  it.each(['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'])('reads the id a plaintext client reads, signed in with %s', async (mechanism) => {
    expect(id).toMatch(/^[\w-]{22}$/);
    const ids = await new KafkaTopicIds(listener.brokers, secret(mechanism, listener.passwords[admin]!)).idsOf([topic]);
    expect(ids.get(topic)).toBe(id);
  });

  it('says "authentication failed", the user and the listener, on a wrong password', async () => {
    await expect(new KafkaTopicIds(listener.brokers, secret('SCRAM-SHA-512', 'not-the-password')).idsOf([topic])).rejects.toThrow(
      `authentication failed for user ${admin} on the SASL_SSL listener ${listener.brokers.join(',')}`,
    );
  });
});
