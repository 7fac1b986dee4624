// The `sluice-registry` process with users and TLS, and Sluice's own clients against it: the controller's SchemaSubject reconciler registers, the runtime's Avro deserializer reads, and a refused user is told what to fix.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SchemaSubject } from '@sluice/crds';
import { registryRequest, type RegistryConnection } from '@sluice/crds/registry-connection';
import { pino } from 'pino';
import { ManualClock } from '../../controller/src/machinery/manual-clock.js';
import { TerminalError } from '../../controller/src/machinery/reconciler.js';
import { TestingResources } from '../../controller/src/machinery/testing-resources.js';
import { registryClientFor, RegistryError } from '../../controller/src/registry-client.js';
import { SchemaSubjectReconciler } from '../../controller/src/schema-subject/reconciler.js';
import { AvroDeserializer, AvroSerializer, HttpSchemaRegistryClient, SchemaRegistries } from '../../runtime-image/src/serde/index.js';

const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
const main = join(import.meta.dirname, '../../registry/src/main.ts');
const payment = JSON.stringify({ type: 'record', name: 'Payment', fields: [{ name: 'id', type: 'string' }] });

let directory: string;
let ca: string;
let registry: ChildProcess;
let url: string;
const writer = { username: 'sluice-controller', password: 'w-3f9a:x' };
const reader = { username: 'fraud-velocity', password: 'r-77c1' };

/** A CA and a certificate for 127.0.0.1 signed by it, as a platform's cert-manager would issue them. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=registry test CA');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=sluice-registry');
  openssl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'tls.crt', '-extfile', 'san.ext');
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-auth-'));
  makeCertificates(directory);
  ca = readFileSync(join(directory, 'ca.pem'), 'utf8');
  writeFileSync(join(directory, 'users'), `${writer.username}: ${writer.password}\n${reader.username}: ${reader.password},read-only\n`);
  const args = ['--port', '0', '--store', `file:${join(directory, 'schemas')}`, '--users-file', join(directory, 'users')];
  registry = spawn(tsx, [main, ...args, '--tls-cert', join(directory, 'tls.crt'), '--tls-key', join(directory, 'tls.key')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const announced = new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening at (https:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (found !== undefined) resolve(found);
    };
    registry.stdout!.on('data', read);
    registry.stderr!.on('data', read);
    registry.once('exit', (code) => reject(new Error(`sluice-registry exited ${code}: ${output}`)));
  });
  url = await announced;
});

afterAll(async () => {
  const exited = new Promise((resolve) => registry.once('exit', resolve));
  registry.kill('SIGTERM');
  await exited;
  rmSync(directory, { recursive: true, force: true });
});

/** The SchemaSubject reconciler of a controller whose default registry is the test's, signed in as `user`. */
function controller(user: { username: string; password: string }) {
  const subjects = new TestingResources<SchemaSubject>();
  const connection: RegistryConnection = { ...user, ca, source: 'the Secret sluice-registry-client' };
  const reconciler = new SchemaSubjectReconciler({
    subjects,
    readConfigMap: () => Promise.resolve(undefined),
    registry: (at) => registryClientFor(at, url, connection),
    defaultRegistryUrl: url,
    events: { record: () => undefined },
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
  });
  const key = { namespace: 'payments', name: 'payments-value' };
  subjects.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'SchemaSubject', metadata: { ...key }, spec: { subject: 'payments-value', schema: payment } });
  const status = async () => (await subjects.get(key))?.status;
  return { reconcile: () => reconciler.reconcile(key), status };
}

describe('sluice-registry with users and TLS', () => {
  it('lets the controller register a SchemaSubject over HTTPS with its user, and the runtime read records written with it', async () => {
    const { reconcile, status } = controller(writer);
    await reconcile();
    expect(await status()).toMatchObject({ id: 1, version: 1, conditions: [expect.objectContaining({ type: 'Ready', status: 'True' })] });

    const client = new HttpSchemaRegistryClient(url, { ...reader, ca });
    const serializer = new AvroSerializer(client, { subject: 'payments-value' });
    await serializer.start();
    const encoded = serializer.encode({ id: 'tx-1' });
    if (!encoded.ok) throw new Error(encoded.reason);
    const deserializer = new AvroDeserializer(client, { subject: 'payments-value' });
    await deserializer.prepare([encoded.value as Buffer]);
    expect(deserializer.decode(encoded.value as Buffer)).toEqual({ ok: true, value: { id: 'tx-1' } });
  });

  it('signs a runtime pod in with the user and CA the controller puts in its environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SLUICE_REGISTRY_USER: reader.username, SLUICE_REGISTRY_PASSWORD: reader.password, SLUICE_REGISTRY_CA: ca });
    try {
      expect(await new SchemaRegistries().at(url).byId(1)).toMatchObject({ id: 1, schemaType: 'AVRO' });
      process.env.SLUICE_REGISTRY_PASSWORD = 'rotated-away';
      await expect(new SchemaRegistries().at(url).byId(1)).rejects.toThrow(
        `the schema registry at ${url} refused user fraud-velocity (401): check the user and password in SLUICE_REGISTRY_USER and SLUICE_REGISTRY_PASSWORD (in a StreamJob's pods: the Secret of spec.connections.schemaRegistry.basicAuthSecretRef)`,
      );
    } finally {
      process.env = saved;
    }
  });

  it('tells a client with a wrong password which user was refused and where to fix it', async () => {
    const { reconcile, status } = controller({ ...writer, password: 'stale' });
    await expect(reconcile()).rejects.toBeInstanceOf(TerminalError);
    const ready = (await status())?.conditions?.find((condition) => condition.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'RegistryRejected' });
    expect(ready?.message).toBe(
      `the schema registry at ${url} refused user sluice-controller (401): check the user and password in the Secret sluice-registry-client`,
    );

    const runtime = new HttpSchemaRegistryClient(url, { ca, username: 'fraud-velocity', password: 'stale', source: 'the Secret fraud-registry' });
    await expect(runtime.byId(1)).rejects.toThrow(
      `the schema registry at ${url} refused user fraud-velocity (401): check the user and password in the Secret fraud-registry`,
    );
    await expect(new HttpSchemaRegistryClient(url, { ca, source: 'the Secret fraud-registry' }).byId(1)).rejects.toThrow(
      `the schema registry at ${url} asks for a user and password (401) and none is set: set them in the Secret fraud-registry`,
    );
  });

  it('answers a client without a user 401, and keeps / open for the probes', async () => {
    await expect(new HttpSchemaRegistryClient(url, { ca }).version('payments-value')).rejects.toThrow(
      `the schema registry at ${url} asks for a user and password (401) and none is set`,
    );
    expect(await registryRequest(url, { ca }, { method: 'GET', path: '/' })).toEqual({ status: 200, text: '{}' });
  });

  it('refuses a read-only user’s registration with 403', async () => {
    const client = registryClientFor(url, url, { ...reader, ca, source: 'the Secret fraud-registry' });
    const refused = await client.register('orders-value', { schema: payment }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RegistryError);
    expect(refused).toMatchObject({ status: 403, clientError: true });
    expect((refused as Error).message).toBe(
      `the schema registry at ${url} does not let user fraud-velocity POST /subjects/orders-value/versions (403): the user may only read; use a user that may write, from the Secret fraud-registry`,
    );
  });

  it('is not reached without the CA that signed its certificate', async () => {
    await expect(new HttpSchemaRegistryClient(url, reader).byId(1)).rejects.toThrow(/did not answer GET \/schemas\/ids\/1 \(.*(self-signed|certificate)/);
  });

  it('does not send the controller’s password to a registry a SchemaSubject names itself', () => {
    const elsewhere = registryClientFor('https://registry.attacker.example', url, { ...writer, ca });
    const home = registryClientFor(`${url}/`, url, { ...writer, ca });
    expect(JSON.stringify(elsewhere)).not.toContain(writer.password);
    expect(JSON.stringify(home)).toContain(writer.password);
  });
});
