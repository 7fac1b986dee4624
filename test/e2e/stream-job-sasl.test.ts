// A StreamJob whose connections.kafka names the SASL_SSL listener and a Secret: the controller mounts the Secret into the runtime pods, which sign in with it, run under ACLs of the job's own, and say in RuntimeHealthy when a password is wrong.
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { KafkaSaslEndpoint } from '../env/src/service.js';
import { eventually } from '../env/src/eventually.js';
import { kafka } from './kafka/harness.js';
import {
  allResults,
  condition,
  core,
  createJob,
  described,
  endpoints,
  fraudJob,
  jobPods,
  jobTest,
  readJob,
  uniqueName,
  waitForPhase,
} from './stream-job/harness.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const listener = endpoints.kafka.sasl as KafkaSaslEndpoint;
const user = 'sluice-job-a';
/** A second user, granted everything of its job but WRITE on the sink topic. */
const userWithoutWrite = 'sluice-job-b';
const setup = jobTest('sj-sasl');

/** The job's Kafka Secret: SCRAM-SHA-512 over TLS with the env's CA. */
async function createKafkaSecret(namespace: string, name: string, password: string, username = user): Promise<void> {
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name },
      stringData: { 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': username, 'sasl.password': password, 'ssl.ca': readFileSync(listener.ca, 'utf8') },
    },
  });
}

/** What docs/security.md lists for a job with application id `app`, on the test's topics. */
async function grantJob(
  app: string,
  topics: { input: string; output: string },
  principal = user,
  outputOperations = [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE, AclOperationTypes.CREATE],
): Promise<void> {
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { READ, WRITE, DESCRIBE, CREATE } = AclOperationTypes;
  const grants: [kafkajs.AclResourceTypes, string, kafkajs.ResourcePatternTypes, kafkajs.AclOperationTypes[]][] = [
    [TOPIC, topics.input, ResourcePatternTypes.LITERAL, [READ, DESCRIBE]],
    [TOPIC, topics.output, ResourcePatternTypes.LITERAL, outputOperations],
    ...[`${topics.input}-late`, `${topics.input}-dead-letter`].map(
      (topic) =>
        [TOPIC, topic, ResourcePatternTypes.LITERAL, [WRITE, DESCRIBE, CREATE]] as [
          kafkajs.AclResourceTypes,
          string,
          kafkajs.ResourcePatternTypes,
          kafkajs.AclOperationTypes[],
        ],
    ),
    [TOPIC, `${app}-`, ResourcePatternTypes.PREFIXED, [READ, WRITE, DESCRIBE, CREATE]],
    [GROUP, `sluice-${app}`, ResourcePatternTypes.LITERAL, [READ]],
    [GROUP, 'sluice-fetch-', ResourcePatternTypes.PREFIXED, [READ]],
    [TRANSACTIONAL_ID, `sluice-${app}-`, ResourcePatternTypes.PREFIXED, [WRITE]],
  ];
  const admin = kafka(endpoints.kafka.brokers).admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: grants.flatMap(([resourceType, resourceName, resourcePatternType, operations]) =>
        operations.map((operation) => ({
          resourceType,
          resourceName,
          resourcePatternType,
          principal: `User:${principal}`,
          host: '*',
          operation,
          permissionType: AclPermissionTypes.ALLOW,
        })),
      ),
    });
  } finally {
    await admin.disconnect();
  }
}

describe('a StreamJob on a SASL_SSL listener', () => {
  it('runs with the Secret mounted into its pods, under ACLs of its own, and gives every window', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    await createKafkaSecret(namespace, 'kafka-credentials', listener.passwords[user]!);
    await grantJob(`${namespace}.${name}`, topics);
    const job = fraudJob(name, topics, world);
    job.spec.connections = { ...job.spec.connections, kafka: { bootstrapServers: listener.brokers.join(','), secretRef: { name: 'kafka-credentials' } } };
    await feed.produce(300);
    await createJob(namespace, job);

    await waitForPhase(namespace, name, 'Running', 1);
    for (const pod of await jobPods(namespace, name)) {
      expect(pod.spec?.volumes).toContainEqual({ name: 'kafka-credentials', secret: { secretName: 'kafka-credentials', defaultMode: 0o644 } });
      expect(JSON.stringify(pod)).not.toContain(listener.passwords[user]!);
    }
    await feed.flush();
    expect(described(await allResults(feed, topics.output))).toEqual(feed.expected());
  }, 420_000);

  it('says "authentication failed", the user and the listener in RuntimeHealthy when the Secret’s password is wrong', async () => {
    const { world, topics } = setup;
    const { namespace } = world;
    const name = uniqueName('fraud-badpw');
    await createKafkaSecret(namespace, 'wrong-kafka-credentials', 'not-the-password');
    const job = fraudJob(name, topics, world, undefined, 1);
    job.spec.connections = { ...job.spec.connections, kafka: { bootstrapServers: listener.brokers.join(','), secretRef: { name: 'wrong-kafka-credentials' } } };
    await createJob(namespace, job);

    const failed = await eventually(
      'RuntimeHealthy False',
      async () => {
        const healthy = condition(await readJob(namespace, name), 'RuntimeHealthy');
        return healthy?.status === 'False' ? healthy : undefined;
      },
      180_000,
      500,
    );
    expect(failed.message).toContain(`authentication failed for user ${user} on the SASL_SSL listener ${listener.brokers.join(',')}`);
    expect(failed.message).not.toContain('not-the-password');
  }, 240_000);

  it('names the topic and the operation in RuntimeHealthy when its user may not WRITE the sink topic', async () => {
    const { world, feed, topics } = setup;
    const { namespace } = world;
    const name = uniqueName('fraud-nowrite');
    const output = `${name}-features`;
    await createKafkaSecret(namespace, 'kafka-credentials-without-write', listener.passwords[userWithoutWrite]!, userWithoutWrite);
    const admin = kafka(endpoints.kafka.brokers).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: 4 }] });
    await admin.disconnect();
    await grantJob(`${namespace}.${name}`, { input: topics.input, output }, userWithoutWrite, [AclOperationTypes.DESCRIBE]);
    const job = fraudJob(name, { input: topics.input, output }, world, undefined, 1);
    job.spec.connections = {
      ...job.spec.connections,
      kafka: { bootstrapServers: listener.brokers.join(','), secretRef: { name: 'kafka-credentials-without-write' } },
    };
    await createJob(namespace, job);
    await feed.flush();

    const failed = await eventually(
      'RuntimeHealthy False',
      async () => {
        const healthy = condition(await readJob(namespace, name), 'RuntimeHealthy');
        return healthy?.status === 'False' ? healthy : undefined;
      },
      180_000,
      500,
    );
    expect(failed.message).toContain(`Kafka refused user ${userWithoutWrite} WRITE on topic ${output} (TOPIC_AUTHORIZATION_FAILED)`);
  }, 240_000);
});
