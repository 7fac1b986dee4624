// The Kafka store on the test broker's SASL_SSL listener: TLS with a client certificate, SASL PLAIN, the credentials from a mounted Secret's folder, ACLs enforced.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import kafkajs from 'kafkajs';
import { kafkaConnectionFromDir } from '@sluice/crds/kafka-connection';
import { readEndpoints } from '../../../test/env/src/endpoints.js';
import type { KafkaSaslEndpoint } from '../../../test/env/src/service.js';
import { contentType, createRegistry } from '../http/app.js';
import { storeFromSpec } from './open.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const { brokers, sasl: listener } = readEndpoints().kafka as { brokers: string[]; sasl: KafkaSaslEndpoint };
const user = 'sluice-job-c';
const folders: string[] = [];
const started: FastifyInstance[] = [];

/** The Secret's keys as the kubelet mounts them: one file per key. */
function secretDir(keys: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-kafka-secret-'));
  folders.push(dir);
  for (const [key, value] of Object.entries(keys)) writeFileSync(join(dir, key), value);
  return dir;
}

const credentials = (password: string): Record<string, string> => ({
  'sasl.mechanism': 'PLAIN',
  'sasl.username': user,
  'sasl.password': password,
  'ssl.ca': readFileSync(listener.ca, 'utf8'),
  'ssl.certificate': readFileSync(listener.clientCertificate, 'utf8'),
  'ssl.key': readFileSync(listener.clientKey, 'utf8'),
});

/** What a registry needs, as docs/security.md lists it: its topic, and READ on its private groups. */
async function grantRegistry(topic: string): Promise<void> {
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  const allow = (
    resourceType: kafkajs.AclResourceTypes,
    resourceName: string,
    pattern: kafkajs.ResourcePatternTypes,
    operation: kafkajs.AclOperationTypes,
  ) => ({
    resourceType,
    resourceName,
    resourcePatternType: pattern,
    principal: `User:${user}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  try {
    await admin.createAcls({
      acl: [
        ...[AclOperationTypes.CREATE, AclOperationTypes.READ, AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) =>
          allow(AclResourceTypes.TOPIC, topic, ResourcePatternTypes.LITERAL, operation),
        ),
        allow(AclResourceTypes.GROUP, 'sluice-registry-', ResourcePatternTypes.PREFIXED, AclOperationTypes.READ),
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

async function replica(topic: string, password: string): Promise<FastifyInstance> {
  const store = storeFromSpec(`kafka:${listener.brokers.join(',')}`, {
    kafkaTopic: topic,
    kafkaConnection: kafkaConnectionFromDir(secretDir(credentials(password))),
  });
  const app = createRegistry({ store });
  started.push(app);
  await app.ready();
  return app;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close().catch(() => undefined)));
});

afterAll(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the Kafka store over SASL_SSL', () => {
  it('keeps schemas in its topic as a user granted only that topic and its groups, over TLS with a client certificate', async () => {
    const topic = `_schemas-sasl-${randomUUID()}`;
    await grantRegistry(topic);
    const writer = await replica(topic, listener.passwords[user]!);
    const schema = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'string' }] });
    const registered = await writer.inject({
      method: 'POST',
      url: '/subjects/events-value/versions',
      payload: JSON.stringify({ schema }),
      headers: { 'content-type': contentType },
    });
    expect(registered.statusCode).toBe(200);

    const reader = await replica(topic, listener.passwords[user]!);
    const read = await reader.inject({ method: 'GET', url: '/subjects/events-value/versions/latest' });
    expect((JSON.parse(read.body) as { schema: string }).schema).toBe(schema);
  }, 60_000);

  it('fails to open with "authentication failed", the user and the listener, on a wrong password', async () => {
    await expect(replica(`_schemas-sasl-${randomUUID()}`, 'not-the-password')).rejects.toThrow(
      `authentication failed for user ${user} on the SASL_SSL listener ${listener.brokers.join(',')}`,
    );
  }, 60_000);
});
