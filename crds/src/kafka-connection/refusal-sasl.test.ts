// A refused write over several topics narrowed to the topic the user may not write, by asking the test broker's SASL_SSL listener which operations the user has.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import type { KafkaSaslEndpoint } from '../../../test/env/src/service.js';
import { explainKafkaErrorPrecisely, kafkaConnectionOptions, type KafkaAccess } from './index.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const { brokers, sasl: endpoint } = readEndpoints().kafka as { brokers: string[]; sasl: KafkaSaslEndpoint };
const user = 'sluice-job-b';
const listener = {
  brokers: endpoint.brokers,
  connection: kafkaConnectionOptions(
    { 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': user, 'sasl.password': endpoint.passwords[user]!, 'ssl.ca': readFileSync(endpoint.ca, 'utf8') },
    'the test Secret',
  ),
};
const writable = `refusal-writable-${randomUUID()}`;
const readOnly = `refusal-read-only-${randomUUID()}`;
const writing: KafkaAccess[] = [{ kind: 'topic', operation: 'WRITE', names: [writable, readOnly] }];
const kafkaError = (type: string): Error => Object.assign(new Error(type), { type });

beforeAll(async () => {
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [writable, readOnly].map((topic) => ({ topic, numPartitions: 1 })) });
    const allow = (topic: string, operation: kafkajs.AclOperationTypes) => ({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${user}`,
      host: '*',
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    await admin.createAcls({ acl: [allow(writable, AclOperationTypes.WRITE), allow(readOnly, AclOperationTypes.DESCRIBE)] });
  } finally {
    await admin.disconnect();
  }
});

describe('a refused write over several topics', () => {
  it('names only the topic the user may not write, whichever partition’s error kafkajs reported', async () => {
    for (const reported of ['TOPIC_AUTHORIZATION_FAILED', 'OPERATION_NOT_ATTEMPTED']) {
      const explained = (await explainKafkaErrorPrecisely(kafkaError(reported), listener, writing)) as Error;
      expect(explained.message).toContain(`Kafka refused user ${user} WRITE on topic ${readOnly} (TOPIC_AUTHORIZATION_FAILED)`);
    }
  });

  it('leaves an OPERATION_NOT_ATTEMPTED alone when the user may write every topic', async () => {
    const notAttempted = kafkaError('OPERATION_NOT_ATTEMPTED');
    expect(await explainKafkaErrorPrecisely(notAttempted, listener, [{ kind: 'topic', operation: 'WRITE', names: [writable] }])).toBe(notAttempted);
  });
});
