// Apache Kafka in KRaft mode, one combined broker+controller node on loopback, run from the jars that install/kafka.sh fetched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import {
  daemonPid,
  freeLoopbackPort,
  killAndWait,
  portFrom,
  startDaemon,
  stopDaemon,
  tcpOpen,
  waitFor,
  waitForDaemon,
  type EnvPaths,
  pinnedVersion,
} from './proc.js';
// Where pods on the real node (test/env/src/real-node.ts) reach the shared broker: its forwarder listens there.
import { hostAddress as kafkaBridgeAddress } from './pod-network.js';
import type { KafkaEndpoint, Service } from './service.js';
import { kafkaAdminUser, kafkaTls } from './kafka-tls.js';

const installScript = fileURLToPath(new URL('../install/kafka.sh', import.meta.url));
const name = 'kafka';

interface KafkaLayout {
  home: string;
  lib: string;
  log4j: string;
  dir: string;
  data: string;
  properties: string;
  port: number;
  controllerPort: number;
  /** The shared broker's listener for pods on the real node: on loopback, advertised as the bridge address the node forwards to it. */
  bridgePort?: number;
  /** The shared broker's SASL_SSL listener (SCRAM and PLAIN users, ACLs enforced) and where its certificates are kept. */
  sasl?: { port: number; dir: string };
}

function kafkaVersion(): string {
  return pinnedVersion(installScript, 'KAFKA_VERSION');
}

function layout(paths: EnvPaths): KafkaLayout {
  const home = join(paths.cache, 'kafka', kafkaVersion());
  const dir = join(paths.run, 'kafka');
  return {
    home,
    lib: join(home, 'lib'),
    log4j: join(home, 'log4j2.xml'),
    dir,
    data: join(dir, 'data'),
    properties: join(dir, 'server.properties'),
    port: portFrom('SLUICE_KAFKA_PORT', 19092),
    controllerPort: portFrom('SLUICE_KAFKA_CONTROLLER_PORT', 19093),
    bridgePort: portFrom('SLUICE_KAFKA_BRIDGE_PORT', 19094),
    // Beside the plaintext port unless set: a second environment on other ports (SLUICE_KAFKA_PORT=29092) gets 29095.
    sasl: { port: portFrom('SLUICE_KAFKA_SASL_PORT', portFrom('SLUICE_KAFKA_PORT', 19092) + 3), dir: join(dir, 'tls') },
  };
}

function endpoint(kafka: Pick<KafkaLayout, 'port' | 'sasl'>): KafkaEndpoint {
  if (kafka.sasl === undefined) return { brokers: [`127.0.0.1:${kafka.port}`] };
  const tls = kafkaTls(kafka.sasl.dir);
  return {
    brokers: [`127.0.0.1:${kafka.port}`],
    sasl: {
      brokers: [`127.0.0.1:${kafka.sasl.port}`],
      ca: tls.ca,
      clientCertificate: tls.clientCertificate,
      clientKey: tls.clientKey,
      admin: kafkaAdminUser,
      passwords: tls.passwords,
    },
  };
}

/**
 * The SASL_SSL listener's settings: TLS with the env's CA (a client certificate is checked when one is sent), PLAIN
 * and SCRAM users, and ACLs enforced. ANONYMOUS (every client of the plaintext listeners) is a super user, so those
 * listeners behave as without an authorizer.
 */
function saslSettings(sasl: { port: number; dir: string }): Record<string, string> {
  const tls = kafkaTls(sasl.dir);
  const plainUsers = Object.entries(tls.passwords)
    .map(([user, password]) => `user_${user}="${password}"`)
    .join(' ');
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return {
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': scram,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': scram,
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.location': tls.brokerKeystore,
    'listener.name.sasl_ssl.ssl.truststore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.truststore.location': tls.ca,
    'listener.name.sasl_ssl.ssl.client.auth': 'requested',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:ANONYMOUS;User:${kafkaAdminUser}`,
  };
}

/** `--add-scram` arguments of kafka-storage format: every user's SCRAM credentials, there from the broker's first start. */
function scramUsers(sasl: { dir: string } | undefined): string[] {
  if (sasl === undefined) return [];
  return Object.entries(kafkaTls(sasl.dir).passwords).flatMap(([user, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${user},password=${password}]`]),
  );
}

/** server.properties of one node; `overrides` replace settings (undefined: left out), as a private cluster's nodes need. */
function serverProperties(
  kafka: Pick<KafkaLayout, 'port' | 'controllerPort' | 'data' | 'bridgePort' | 'sasl'>,
  overrides: Record<string, string | number | undefined> = {},
): string {
  const controller = `127.0.0.1:${kafka.controllerPort}`;
  // A client is told the addresses of the listener it connected to: loopback clients keep 127.0.0.1, pods get the bridge address.
  const bridge =
    kafka.bridgePort === undefined
      ? undefined
      : { listener: `BRIDGE://127.0.0.1:${kafka.bridgePort}`, advertised: `BRIDGE://${kafkaBridgeAddress}:${kafka.bridgePort}` };
  const sasl = kafka.sasl === undefined ? [] : [`SASL_SSL://127.0.0.1:${kafka.sasl.port}`];
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': controller,
    listeners: [`PLAINTEXT://127.0.0.1:${kafka.port}`, `CONTROLLER://${controller}`, ...(bridge === undefined ? [] : [bridge.listener]), ...sasl].join(','),
    'advertised.listeners': [
      `PLAINTEXT://127.0.0.1:${kafka.port}`,
      `CONTROLLER://${controller}`,
      ...(bridge === undefined ? [] : [bridge.advertised]),
      ...sasl,
    ].join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': `CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${bridge === undefined ? '' : ',BRIDGE:PLAINTEXT'}${sasl.length === 0 ? '' : ',SASL_SSL:SASL_SSL'}`,
    'log.dirs': kafka.data,
    // Tests and the Topic controller create every topic they use; auto-creation would hide a missing create.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Few partitions for the internal topics: the first group or transaction creates them, and 50 partitions each take seconds on one node.
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.num.partitions': 1,
    // A consumer group starts at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms': 0,
    // Transactions left open by a crashed test are aborted soon, so they do not block read_committed readers of the next test for long.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 5000,
    // Sized for a 2-core machine and a 768 MiB heap; the cleaner's default 128 MiB dedupe buffer is for production logs.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    ...(kafka.sasl === undefined ? {} : saslSettings(kafka.sasl)),
  };
  const lines = Object.entries({ ...settings, ...overrides }).filter(([, value]) => value !== undefined);
  return `# Written by test/env/src/kafka.ts on every start.\n${lines.map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

function java(): string {
  return process.env.JAVA_HOME === undefined ? 'java' : join(process.env.JAVA_HOME, 'bin', 'java');
}

function jvmArgs(kafka: Pick<KafkaLayout, 'lib' | 'log4j'>): string[] {
  return [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${kafka.log4j}`,
    '-cp',
    join(kafka.lib, '*'),
  ];
}

/** Kafka's cluster ids are 16 random bytes in URL-safe base64; like Kafka's own, never one that starts with '-' (it would read as a flag). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the log dir for a single-voter quorum, once; a dir formatted for another controller address or version is started afresh. */
async function formatStorage(kafka: Pick<KafkaLayout, 'lib' | 'log4j' | 'data' | 'controllerPort' | 'properties' | 'sasl'>): Promise<void> {
  const stamp = join(kafka.data, '.sluice-format');
  const wanted = `kafka ${kafkaVersion()} controller 127.0.0.1:${kafka.controllerPort}\n`;
  if (existsSync(join(kafka.data, 'meta.properties')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  rmSync(kafka.data, { recursive: true, force: true });
  const args = [...jvmArgs(kafka), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId(), '-c', kafka.properties, ...scramUsers(kafka.sasl)];
  try {
    await promisify(execFile)(java(), args, { maxBuffer: 1 << 20 });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`formatting the Kafka log dir ${kafka.data} failed: ${output.stderr || output.stdout || output.message}`);
  }
  writeFileSync(stamp, wanted);
}

/** True when a Kafka broker answers a metadata request on the port. */
async function answers(kafka: Pick<KafkaLayout, 'port'>): Promise<boolean> {
  if (!(await tcpOpen('127.0.0.1', kafka.port))) return false;
  const admin = new Kafka({
    brokers: [`127.0.0.1:${kafka.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * True when the group and transaction coordinators answer: on a new cluster their internal topics are created and
 * loaded on first use, and a test's first consumer or transaction would otherwise meet "the coordinator is loading".
 */
async function coordinatorsReady(kafka: Pick<KafkaLayout, 'port'>): Promise<boolean> {
  // A few quick retries inside: right after the broker starts, kafkajs's first FindCoordinator finds no coordinator yet.
  const client = new Kafka({
    brokers: [`127.0.0.1:${kafka.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 5, initialRetryTime: 100 },
  });
  const admin = client.admin();
  const producer = client.producer({ transactionalId: 'sluice-test-env-ready', idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.describeGroups(['sluice-test-env-ready']);
    await producer.connect();
    await (await producer.transaction()).abort();
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]).catch(() => undefined);
  }
}

/** True when the admin user signs in on the SASL_SSL listener over TLS with the env's CA and gets the cluster's metadata. */
async function saslAnswers(kafka: Pick<KafkaLayout, 'sasl'>): Promise<boolean> {
  const sasl = kafka.sasl === undefined ? undefined : endpoint({ port: 0, sasl: kafka.sasl }).sasl;
  if (sasl === undefined) return true;
  const admin = new Kafka({
    brokers: sasl.brokers,
    ssl: { ca: [readFileSync(sasl.ca, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: sasl.admin, password: sasl.passwords[sasl.admin]! },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The loopback port of the shared broker's listener for pods; the real node forwards the bridge address's same port to it. */
export function kafkaBridgePort(paths: EnvPaths): number {
  return layout(paths).bridgePort!;
}

export const kafka: Service<KafkaEndpoint> = {
  name,
  async start(paths) {
    const kafka = layout(paths);
    if (await answers(kafka)) {
      if (!existsSync(kafka.properties) || readFileSync(kafka.properties, 'utf8') === serverProperties(kafka)) return endpoint(kafka);
      // Started by an older tree with other settings (an older pod network's advertised address): started afresh.
      if (daemonPid(paths, name) === undefined)
        throw new Error(`the Kafka broker on 127.0.0.1:${kafka.port} runs with settings other than ${kafka.properties}: stop it, then run npm run env:up`);
      process.stderr.write(`[test env] the running Kafka broker has settings other than this tree's; restarting it with an empty cluster\n`);
      await stopDaemon(paths, name, 30_000);
    }
    if (daemonPid(paths, name) === undefined) {
      if (await tcpOpen('127.0.0.1', kafka.port))
        throw new Error(`127.0.0.1:${kafka.port} is taken by something that is not a Kafka broker; stop it or set SLUICE_KAFKA_PORT`);
      if (!existsSync(join(kafka.lib, '.stamp')))
        throw new Error(`Kafka ${kafkaVersion()} is not installed in ${kafka.lib}: run npm run env:install (or bash ${installScript})`);
      mkdirSync(kafka.dir, { recursive: true });
      writeFileSync(kafka.properties, serverProperties(kafka));
      // A broker that is not running starts with an empty cluster, as after env:down: the data a killed broker left
      // (gigabytes of test topics) took it past the 90 s start timeout, re-registering and loading every partition.
      rmSync(kafka.data, { recursive: true, force: true });
      await formatStorage(kafka);
      startDaemon(paths, name, java(), [...jvmArgs(kafka), 'kafka.Kafka', kafka.properties]);
    }
    await waitForDaemon(paths, name, `Kafka broker on 127.0.0.1:${kafka.port}`, () => answers(kafka), 90_000);
    await waitForDaemon(paths, name, `Kafka's group and transaction coordinators`, () => coordinatorsReady(kafka), 60_000);
    await waitForDaemon(paths, name, `the Kafka SASL_SSL listener on 127.0.0.1:${kafka.sasl!.port} (user ${kafkaAdminUser})`, () => saslAnswers(kafka), 30_000);
    return endpoint(kafka);
  },
  async stop(paths) {
    await stopDaemon(paths, name, 30_000);
    // The next start begins with an empty cluster, so topics and open transactions left by a crashed test do not pile up between runs.
    rmSync(join(paths.run, 'kafka', 'data'), { recursive: true, force: true });
  },
};

export interface PrivateKafka {
  endpoint: KafkaEndpoint;
  /** Kills the broker with SIGKILL, as a crash: nothing is flushed or handed over. Its controller keeps running. */
  kill(): Promise<void>;
  /** Starts the broker again over the same log dir and ports; resolves once its coordinators answer. */
  start(): Promise<void>;
  /** Kills the broker and its controller; for afterAll. */
  stop(): Promise<void>;
  /**
   * Lines of the broker's log where its transaction coordinator skipped a transaction's markers for partitions it
   * took for deleted: each leaves that transaction half committed. None is expected.
   */
  skippedMarkers(): string[];
}

/**
 * How long the private controller waits for a broker's heartbeat before it fences the broker (Kafka's default). A
 * killed broker is started again only after this, so it comes back to a controller that has fenced it.
 */
const BROKER_SESSION_TIMEOUT_MS = 9000;

/** Formats one node's log dir of a private cluster: every node of a cluster shares its id; only the controller forms the quorum. */
async function formatPrivateNode(
  kafka: Pick<KafkaLayout, 'lib' | 'log4j' | 'properties'>,
  cluster: string,
  quorum: '--standalone' | '--no-initial-controllers',
): Promise<void> {
  try {
    await promisify(execFile)(java(), [...jvmArgs(kafka), 'kafka.tools.StorageTool', 'format', quorum, '-t', cluster, '-c', kafka.properties], {
      maxBuffer: 1 << 20,
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`formatting the private Kafka node of ${kafka.properties} failed: ${output.stderr || output.stdout || output.message}`);
  }
}

/**
 * A Kafka cluster of one test's own on free ports over `dir`, for a test that kills the broker to see what a job does
 * (killing the shared one would fail the tests running beside it). The controller runs in a process of its own, as in
 * production, and `kill` kills only the broker. Not one combined broker+controller node: after a kill -9 such a node
 * restarts with its own old registration live for the session timeout, and its transaction coordinator, loading a
 * transaction the kill caught between PrepareCommit and CompleteCommit, finds no leader for the transaction's
 * partitions when that registration is fenced and skips their markers as if the partitions were deleted ("Couldn't
 * find leader endpoint … can be skipped"). The offsets of a committed transaction then stay pending for ever while its
 * changelog records are committed, or its records hang open until a later commit commits them: Kafka's own atomicity
 * is broken, and no client can make up for it. Stop the cluster with `stop` in afterAll.
 */
export async function startPrivateKafka(paths: EnvPaths, dir: string): Promise<PrivateKafka> {
  const shared = layout(paths);
  const [port, controllerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const controllerAddress = `127.0.0.1:${controllerPort}`;
  const own = { lib: shared.lib, log4j: shared.log4j, data: join(dir, 'data'), properties: join(dir, 'server.properties'), port, controllerPort };
  const controller = { ...own, data: join(dir, 'controller'), properties: join(dir, 'controller.properties') };
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    controller.properties,
    serverProperties(own, {
      'process.roles': 'controller',
      listeners: `CONTROLLER://${controllerAddress}`,
      'advertised.listeners': `CONTROLLER://${controllerAddress}`,
      'inter.broker.listener.name': undefined,
      'log.dirs': controller.data,
      'broker.session.timeout.ms': BROKER_SESSION_TIMEOUT_MS,
    }),
  );
  writeFileSync(
    own.properties,
    serverProperties(own, {
      'process.roles': 'broker',
      'node.id': 2,
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    }),
  );
  const cluster = clusterId();
  await formatPrivateNode(controller, cluster, '--standalone');
  await formatPrivateNode(own, cluster, '--no-initial-controllers');
  const spawnNode = (log: string, heap: string, properties: string): ChildProcess => {
    const fd = openSync(join(dir, log), 'a');
    const args = jvmArgs(own).map((arg) => (arg.startsWith('-Xmx') ? `-Xmx${heap}` : arg.startsWith('-Xms') ? '-Xms64m' : arg));
    const started = spawn(java(), [...args, 'kafka.Kafka', properties], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    started.once('error', () => undefined);
    return started;
  };
  const controllerProcess = spawnNode('controller.log', '256m', controller.properties);
  let child: ChildProcess | undefined;
  let killedAt = 0;
  const start = async (): Promise<void> => {
    // Back only once the controller has fenced the killed broker: it then registers afresh, and leads its partitions
    // (and so runs its coordinators) only after the controller unfenced it.
    // (The controller checks sessions every few hundred ms; 3 s more leaves room for a loaded machine.)
    const fencing = killedAt + BROKER_SESSION_TIMEOUT_MS + 3000 - Date.now();
    if (fencing > 0) await new Promise((resolve) => setTimeout(resolve, fencing));
    child = spawnNode('kafka.log', '768m', own.properties);
    await waitFor(`private Kafka broker on 127.0.0.1:${port}`, () => answers(own), { timeoutMs: 90_000 });
    await waitFor(`the private broker's group and transaction coordinators`, () => coordinatorsReady(own), { timeoutMs: 60_000 });
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    await killAndWait(running);
    killedAt = Date.now();
  };
  const stop = async (): Promise<void> => {
    await kill();
    await killAndWait(controllerProcess);
  };
  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  const skippedMarkers = (): string[] =>
    ['kafka.log', 'controller.log']
      .map((log) => join(dir, log))
      .filter((log) => existsSync(log))
      .flatMap((log) => readFileSync(log, 'utf8').split('\n'))
      .filter((line) => line.includes("Couldn't find leader endpoint for partitions"));
  return { endpoint: endpoint(own), kill, start, stop, skippedMarkers };
}
