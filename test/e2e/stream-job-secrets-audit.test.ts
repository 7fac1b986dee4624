// A StreamJob run through the operator with every credential type (Kafka SASL, PostgreSQL password, mask key, control token):
// none of their values appears in its status, the namespace's Events, its pods, ConfigMaps, the pods' logs or the controller's log.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { RUNTIME_ENV } from '@sluice/crds';
import type { KafkaSaslEndpoint } from '../env/src/service.js';
import { runController } from './controller/harness.js';
import { kafka } from './kafka/harness.js';
import { allResults, core, createJob, described, endpoints, fraudJob, jobPods, jobTest, readJob, waitForPhase } from './stream-job/harness.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const listener = endpoints.kafka.sasl as KafkaSaslEndpoint;
const user = 'sluice-job-a';
// The controller runs in the test, with its log at debug kept for the search.
const setup = jobTest('sj-audit', { inProcessController: false });

/** What docs/security.md lists for a job with application id `app` (its late and dead-letter topics are named after the input). */
async function grantJob(app: string, topics: { input: string; output: string }): Promise<void> {
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { READ, WRITE, DESCRIBE, CREATE } = AclOperationTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  const grants: [kafkajs.AclResourceTypes, string, kafkajs.ResourcePatternTypes, kafkajs.AclOperationTypes[]][] = [
    [TOPIC, topics.input, LITERAL, [READ, DESCRIBE]],
    [TOPIC, topics.output, LITERAL, [WRITE, DESCRIBE, CREATE]],
    [TOPIC, `${topics.input}-late`, LITERAL, [WRITE, DESCRIBE, CREATE]],
    [TOPIC, `${topics.input}-dead-letter`, LITERAL, [WRITE, DESCRIBE, CREATE]],
    [TOPIC, `${app}-`, PREFIXED, [READ, WRITE, DESCRIBE, CREATE]],
    [GROUP, `sluice-${app}`, LITERAL, [READ]],
    [GROUP, 'sluice-fetch-', PREFIXED, [READ]],
    [TRANSACTIONAL_ID, `sluice-${app}-`, PREFIXED, [WRITE]],
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

/** Every container log the process kubelet wrote for the namespace's pods. */
function podLogs(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((file) => join(dir, file))
    .filter((path) => path.endsWith('.log') && statSync(path).isFile())
    .map((path) => readFileSync(path, 'utf8'))
    .join('\n');
}

describe('a StreamJob given every credential type', () => {
  it('runs, and no credential appears in its status, Events, pods, ConfigMaps, pod logs or the controller log', async () => {
    const { world, feed, name, topics } = setup;
    const { namespace } = world;
    const secrets: Record<string, string> = {
      saslPassword: listener.passwords[user]!,
      postgresPassword: `pg-${randomBytes(12).toString('hex')}`,
      maskKey: randomBytes(32).toString('hex'),
    };
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'kafka-credentials' },
        stringData: {
          'sasl.mechanism': 'SCRAM-SHA-512',
          'sasl.username': user,
          'sasl.password': secrets.saslPassword!,
          'ssl.ca': readFileSync(listener.ca, 'utf8'),
        },
      },
    });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'features-db' }, stringData: { password: secrets.postgresPassword! } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'pii-mask-key' }, stringData: { key: secrets.maskKey! } } });
    await grantJob(`${namespace}.${name}`, topics);
    const job = fraudJob(name, topics, world, undefined, 1);
    // The feed's transactions carry no card number: the mask leaves them as they are, but the pods cannot start without its key.
    job.spec.pipeline = [
      {
        mask: {
          fields: [
            { field: 'card_number', with: 'hmac' },
            { field: 'email', with: 'tokenise' },
          ],
          keySecretRef: { name: 'pii-mask-key', key: 'key' },
        },
      },
      ...job.spec.pipeline!,
    ];
    job.spec.connections = {
      ...job.spec.connections,
      kafka: { bootstrapServers: listener.brokers.join(','), secretRef: { name: 'kafka-credentials' } },
      postgres: { url: endpoints.postgres.url, passwordSecretRef: { name: 'features-db', key: 'password' } },
    };
    await feed.produce(300);
    const controllerLog: string[] = [];
    const controller = await runController(namespace, { log: pino({ level: 'debug' }, { write: (line: string) => controllerLog.push(line) }) });
    try {
      await createJob(namespace, job);
      await waitForPhase(namespace, name, 'Running', 1);
      await feed.flush();
      expect(described(await allResults(feed, topics.output))).toEqual(feed.expected());
    } finally {
      await controller.stop();
    }

    const control = await core.readNamespacedSecret({ namespace, name: `${name}-control` });
    secrets.controlToken = Buffer.from(control.data!.token!, 'base64').toString('utf8');
    const pods = await jobPods(namespace, name);
    for (const pod of pods) {
      expect(pod.spec!.containers[0]!.env).toContainEqual({ name: RUNTIME_ENV.maskKey, valueFrom: { secretKeyRef: { name: 'pii-mask-key', key: 'key' } } });
    }
    const surfaces: Record<string, string> = {
      status: JSON.stringify((await readJob(namespace, name)).status),
      events: JSON.stringify((await core.listNamespacedEvent({ namespace })).items),
      pods: JSON.stringify(pods),
      configMaps: JSON.stringify((await core.listNamespacedConfigMap({ namespace })).items),
      logs: podLogs(world.workDir),
      controllerLog: controllerLog.join(''),
    };
    expect(surfaces.status).toContain('"phase":"Running"');
    expect(surfaces.logs).toContain('"event":"committed"');
    expect(surfaces.controllerLog).toContain(name);
    for (const [surface, text] of Object.entries(surfaces)) {
      expect([
        surface,
        Object.entries(secrets)
          .filter(([, value]) => text.includes(value))
          .map(([secret]) => secret),
      ]).toEqual([surface, []]);
    }
  }, 420_000);
});
