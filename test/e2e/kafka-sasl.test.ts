// The runtime on the shared broker's SASL_SSL listener (TLS with the env's CA, SCRAM users, ACLs enforced): the fraud-velocity job under a user granted exactly its own ACLs, a wrong password, a missing WRITE.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { END_OF_INPUT_HEADER } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import type { KafkaSaslEndpoint } from '../env/src/service.js';
import {
  createTopics,
  fraudJobSpec,
  kafka,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
  type FraudJobTopics,
} from './kafka/harness.js';

// kafkajs is CommonJS: its enums are read off the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const { brokers, sasl: listener } = readEndpoints().kafka as { brokers: string[]; sasl: KafkaSaslEndpoint };
const example = (file: string): string[] =>
  readFileSync(new URL(`../../examples/fraud-velocity/${file}`, import.meta.url), 'utf8')
    .trim()
    .split('\n');

type Acl = { type: kafkajs.AclResourceTypes; name: string; prefixed?: boolean; operations: kafkajs.AclOperationTypes[] };

/** Grants `user` the ACLs, over the plaintext listener (whose ANONYMOUS user is a super user). */
async function grant(user: string, acls: readonly Acl[]): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: acls.flatMap(({ type, name, prefixed, operations }) =>
        operations.map((operation) => ({
          resourceType: type,
          resourceName: name,
          resourcePatternType: prefixed === true ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
          principal: `User:${user}`,
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

/**
 * What a fraud job named `name` needs, as docs/security.md lists it: READ on its input, its own topics (late output,
 * dead letters, changelogs: all named `<name>-…`), its consumer group, the runtime's fetch groups, its transactional ids.
 */
function jobAcls(name: string, input: string): Acl[] {
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { READ, WRITE, DESCRIBE, CREATE } = AclOperationTypes;
  return [
    { type: TOPIC, name: input, operations: [READ, DESCRIBE] },
    { type: TOPIC, name: `${name}-`, prefixed: true, operations: [READ, WRITE, DESCRIBE, CREATE] },
    { type: GROUP, name: `sluice-${name}`, operations: [READ] },
    { type: GROUP, name: 'sluice-fetch-', prefixed: true, operations: [READ] },
    { type: TRANSACTIONAL_ID, name: `sluice-${name}-`, prefixed: true, operations: [WRITE, DESCRIBE] },
  ];
}

/** A folder holding the Kafka Secret's keys, one file each, as a runtime pod has it mounted. */
function secretDir(user: string, password: string): string {
  const dir = join(scratchDir('kafka-secret'), 'kafka');
  mkdirSync(dir);
  const keys = {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.username': user,
    'sasl.password': password,
    'ssl.ca': readFileSync(listener.ca, 'utf8'),
  };
  for (const [key, value] of Object.entries(keys)) writeFileSync(join(dir, key), value);
  return dir;
}

/** The example's sample on one partition in its line order, a transaction an hour later so every window fires, then the end of input. */
async function produceSample(input: string): Promise<void> {
  await createTopics(brokers, [input], 1);
  const producer = kafka(brokers).producer();
  await producer.connect();
  const flush = JSON.stringify({
    transaction_id: 'flush',
    customer_id: 'FLUSH',
    merchant_id: 'M0',
    amount: 1,
    currency: 'NZD',
    timestamp: '2025-12-05T12:00:00.000Z',
  });
  await producer.send({ topic: input, messages: [...example('sample.jsonl'), flush].map((value) => ({ partition: 0, value })) });
  await producer.send({ topic: input, messages: [{ partition: 0, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } }] });
  await producer.disconnect();
}

/** Runs the fraud job on the SASL_SSL listener as `user` with `password`, to the end of its input. */
function runFraudJob(topics: FraudJobTopics, user: string, password: string) {
  return startRuntime({
    SLUICE_JOB_FILE: writeJobFile(topics.name, fraudJobSpec(topics)),
    SLUICE_KAFKA_BROKERS: listener.brokers.join(','),
    SLUICE_KAFKA_SECRET_DIR: secretDir(user, password),
    SLUICE_STATE_DIR: scratchDir('state'),
    SLUICE_END_MARKERS: 'true',
  });
}

function topicsOf(name: string, input: string, output = `${name}-features`): FraudJobTopics {
  return { name, input, output, late: `${name}-late`, deadLetter: `${name}-dead-letter` };
}

describe('the runtime on a SASL_SSL listener with ACLs', () => {
  afterAll(removeScratchDirs);

  it('runs the fraud-velocity job as a user granted exactly its topics, group and transactional ids, and gives the example’s windows', async () => {
    const user = 'sluice-job-a';
    const name = uniqueName('fraud-sasl');
    const topics = topicsOf(name, uniqueName('txn-sasl'));
    await produceSample(topics.input);
    await grant(user, jobAcls(name, topics.input));

    const runtime = runFraudJob(topics, user, listener.passwords[user]!);
    await runtime.exitsWith(0);

    const results = (await readCommitted(brokers, topics.output)).map((message) => JSON.parse(message.value!.toString()) as { customer_id: string });
    expect(results.filter((result) => result.customer_id !== 'FLUSH')).toEqual(example('expected.jsonl').map((line) => JSON.parse(line) as unknown));
  }, 120_000);

  it('fails at once with "authentication failed", the user and the listener, on a wrong password', async () => {
    const name = uniqueName('fraud-badpw');
    const topics = topicsOf(name, uniqueName('txn-badpw'));
    await createTopics(brokers, [topics.input], 1);

    const runtime = runFraudJob(topics, 'sluice-job-c', 'not-the-password');
    expect(await runtime.exited).not.toBe(0);
    const said = `${runtime.stderr()}\n${runtime.events.map((event) => JSON.stringify(event)).join('\n')}`;
    expect(said).toContain(`authentication failed for user sluice-job-c on the SASL_SSL listener ${listener.brokers.join(',')}`);
    expect(said).not.toContain('not-the-password');
  }, 60_000);

  it('names the topic and the operation when the user may not WRITE the sink topic', async () => {
    const user = 'sluice-job-b';
    const name = uniqueName('fraud-nowrite');
    // The sink topic is outside the job's own prefix: the user may see it (DESCRIBE) but not write it.
    const topics = topicsOf(name, uniqueName('txn-nowrite'), uniqueName('features-nowrite'));
    await produceSample(topics.input);
    await createTopics(brokers, [topics.output], 1);
    await grant(user, [...jobAcls(name, topics.input), { type: AclResourceTypes.TOPIC, name: topics.output, operations: [AclOperationTypes.DESCRIBE] }]);

    const runtime = runFraudJob(topics, user, listener.passwords[user]!);
    expect(await runtime.exited).not.toBe(0);
    const said = `${runtime.stderr()}\n${runtime.events.map((event) => JSON.stringify(event)).join('\n')}`;
    // The transaction wrote the sink topic, the late topic and a changelog; the message names only the one refused.
    expect(said).toContain(
      `Kafka refused user ${user} WRITE on topic ${topics.output} (TOPIC_AUTHORIZATION_FAILED) on the SASL_SSL listener ${listener.brokers.join(',')}`,
    );
  }, 120_000);
});
