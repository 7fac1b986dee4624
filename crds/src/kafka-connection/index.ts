// How every Sluice Kafka client (runtime, controller, registry, streamctl) turns connections.kafka's Secret into TLS and SASL options, and Kafka's refusals into messages that say what to grant.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf, SluiceError } from '../errors.js';
import { RUNTIME_ENV } from '../runtime-env.js';
import { BrokerSaslError } from './broker-socket.js';
import { ACL_OPERATION_CODES, readTopicMetadata } from './metadata.js';

export { BrokerSaslError, brokerRequest } from './broker-socket.js';
export { ACL_OPERATION_CODES, encodeMetadataRequest, parseMetadata, readTopicMetadata, type TopicMetadata } from './metadata.js';

/** The keys of the Secret named by connections.kafka.secretRef (or the files of a folder it is mounted in). */
export const KAFKA_SECRET_KEYS = {
  /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; by default SSL or SASL_SSL as soon as a TLS or SASL key is set. */
  securityProtocol: 'security.protocol',
  /** PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
  saslMechanism: 'sasl.mechanism',
  saslUsername: 'sasl.username',
  saslPassword: 'sasl.password',
  /** PEM certificates of the CAs that sign the brokers' certificates; the system's CAs when absent. */
  sslCa: 'ssl.ca',
  /** PEM client certificate and its private key, for brokers that authenticate clients by certificate (mTLS). */
  sslCertificate: 'ssl.certificate',
  sslKey: 'ssl.key',
} as const;

/** Where a Secret's keys are mounted in a runtime pod (and the controller's, and the registry's). */
export const KAFKA_SECRET_ENV = RUNTIME_ENV.kafkaSecretDir;

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** A user and password for one mechanism, as kafkajs's `sasl` option takes them. */
export type KafkaSasl = { [M in KafkaSaslMechanism]: { mechanism: M; username: string; password: string } }[KafkaSaslMechanism];

/** What kafkajs's `ssl` and `sasl` client options take; spread into `new Kafka({ brokers, ...options })`. */
export interface KafkaConnectionOptions {
  ssl?: true | { ca?: string[]; cert?: string; key?: string };
  sasl?: KafkaSasl;
}

/** A Secret whose keys do not make a connection; the message names the key and what to set. */
export class KafkaConnectionError extends SluiceError {
  readonly code = 'SLUICE_E_KAFKA_CONNECTION';
}

const protocols = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
const mechanisms: Record<string, KafkaSaslMechanism> = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' };

/**
 * The TLS and SASL options of `settings` (a Secret's data as text; `source` names it in errors). Empty settings give
 * a plaintext connection. A password is never sent in the clear unless security.protocol says SASL_PLAINTEXT.
 */
export function kafkaConnectionOptions(settings: Readonly<Record<string, string>>, source: string): KafkaConnectionOptions {
  const key = KAFKA_SECRET_KEYS;
  const text = (name: string): string | undefined => {
    const value = settings[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const fail = (message: string): never => {
    throw new KafkaConnectionError(`${source}: ${message}`);
  };
  const username = text(key.saslUsername);
  const password = settings[key.saslPassword];
  const mechanismName = text(key.saslMechanism)?.toUpperCase();
  const [ca, cert, privateKey] = [text(key.sslCa), text(key.sslCertificate), text(key.sslKey)];
  const usesSasl = username !== undefined || mechanismName !== undefined || password !== undefined;
  const usesTls = ca !== undefined || cert !== undefined || privateKey !== undefined;
  const protocol = text(key.securityProtocol)?.toUpperCase() ?? (usesSasl ? 'SASL_SSL' : usesTls ? 'SSL' : 'PLAINTEXT');
  if (!(protocols as readonly string[]).includes(protocol)) fail(`${key.securityProtocol} is ${protocol}: set it to one of ${protocols.join(', ')}`);
  const saslWanted = protocol.startsWith('SASL_');
  const tlsWanted = protocol.endsWith('SSL');
  if (usesSasl && !saslWanted) fail(`${key.securityProtocol} is ${protocol} but SASL keys are set: set it to SASL_SSL, or remove the sasl.* keys`);
  if (usesTls && !tlsWanted) fail(`${key.securityProtocol} is ${protocol} but TLS keys are set: set it to SSL or SASL_SSL, or remove the ssl.* keys`);
  if ((cert === undefined) !== (privateKey === undefined)) fail(`a client certificate needs both ${key.sslCertificate} and ${key.sslKey}: set the missing one`);
  const options: KafkaConnectionOptions = {};
  if (tlsWanted) options.ssl = usesTls ? { ...(ca === undefined ? {} : { ca: [ca] }), ...(cert === undefined ? {} : { cert, key: privateKey! }) } : true;
  if (saslWanted) {
    if (mechanismName === undefined) return fail(`${key.saslMechanism} is not set: set it to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
    const mechanism = mechanisms[mechanismName] ?? fail(`${key.saslMechanism} is ${mechanismName}: Sluice speaks PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512`);
    if (username === undefined || password === undefined || password === '')
      fail(`SASL ${mechanismName} needs ${key.saslUsername} and ${key.saslPassword}: set both`);
    options.sasl = { mechanism, username: username!, password: password! };
  }
  return options;
}

/**
 * The keys of a Secret mounted as a folder: one file per key. The kubelet's own entries (..data and its dated
 * folders, through which it swaps a changed Secret in at once) are skipped.
 */
export function readKafkaSecretDir(dir: string): Record<string, string> {
  const settings: Record<string, string> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new KafkaConnectionError(
      `the Kafka credentials folder ${dir} cannot be read (${messageOf(error)}): mount the Secret of connections.kafka.secretRef there, or unset ${KAFKA_SECRET_ENV}`,
    );
  }
  for (const name of names) {
    if (name.startsWith('..') || !statSync(join(dir, name)).isFile()) continue;
    settings[name] = readFileSync(join(dir, name), 'utf8');
  }
  return settings;
}

/** The options of the Secret mounted in `dir`; plaintext without one. */
export function kafkaConnectionFromDir(dir: string | undefined): KafkaConnectionOptions {
  if (dir === undefined || dir === '') return {};
  return kafkaConnectionOptions(readKafkaSecretDir(dir), `the Kafka credentials in ${dir}`);
}

/** The options of the Secret mounted at `$SLUICE_KAFKA_SECRET_DIR`; plaintext when it is unset. */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConnectionOptions {
  return kafkaConnectionFromDir(env[KAFKA_SECRET_ENV]);
}

export type KafkaResourceKind = 'topic' | 'group' | 'transactional-id' | 'cluster';

/** Kafka's authorization error codes, by the kind of resource an ACL is missing on. */
const refusals: Record<string, KafkaResourceKind> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'group',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional-id',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
};

/** What a Kafka client asked for when refused: the operation on resources of a kind that an ACL must allow. */
export interface KafkaAccess {
  kind: KafkaResourceKind;
  operation: 'READ' | 'WRITE' | 'DESCRIBE' | 'CREATE' | 'DELETE' | 'IDEMPOTENT_WRITE';
  /** The topics, groups or transactional ids (none for the cluster). */
  names: readonly string[];
}

/** Where a client connects, for messages: the bootstrap servers and the SASL user, if any. */
export interface KafkaListener {
  brokers: readonly string[];
  connection: KafkaConnectionOptions;
}

function listenerName({ brokers, connection }: KafkaListener): string {
  const protocol =
    connection.sasl === undefined ? (connection.ssl === undefined ? 'PLAINTEXT' : 'SSL') : connection.ssl === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL';
  return `the ${protocol} listener ${brokers.join(',')}`;
}

/** An error's fields that kafkajs sets: its class name and, for the broker's error codes, the code's name. */
interface KafkaErrorFields {
  name?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and the errors it wraps (kafkajs wraps a retried call's last error as `cause` or `originalError`). */
function chain(error: unknown): KafkaErrorFields[] {
  const links: KafkaErrorFields[] = [];
  for (let current: unknown = error; typeof current === 'object' && current !== null && links.length < 10;) {
    const link: KafkaErrorFields = current;
    links.push(link);
    current = link.cause ?? link.originalError;
  }
  return links;
}

/**
 * A refusal by the broker said as what to do: a failed sign-in names the user and listener, a missing ACL the
 * resource and operation. Any other error comes back as it was. The result is not retriable: asking again gets the
 * same answer until someone changes the Secret or the ACLs.
 */
export function explainKafkaError(error: unknown, listener: KafkaListener, accesses: readonly KafkaAccess[] = []): unknown {
  if (error instanceof KafkaConnectionError) return error;
  const links = chain(error);
  if (links.some((link) => link instanceof BrokerSaslError || link.name === 'KafkaJSSASLAuthenticationError')) {
    const user = listener.connection.sasl?.username ?? '(none)';
    const mechanism = listener.connection.sasl?.mechanism.toUpperCase() ?? 'SASL';
    return new KafkaConnectionError(
      `authentication failed for user ${user} on ${listenerName(listener)} (${mechanism}): check sasl.username, sasl.password and sasl.mechanism in the Kafka Secret`,
      { cause: error },
    );
  }
  const refused = links.map((link) => link.type).find((type) => type !== undefined && type in refusals);
  if (refused !== undefined) {
    const kind = refusals[refused]!;
    const user = listener.connection.sasl?.username ?? 'ANONYMOUS';
    const access = accesses.find((candidate) => candidate.kind === kind);
    const asked =
      access === undefined
        ? `an operation on a ${kind}`
        : `${access.operation} on ${kind === 'cluster' ? 'the cluster' : `${kind} ${access.names.join(', ')}`}`;
    return new KafkaConnectionError(
      `Kafka refused user ${user} ${asked} (${refused}) on ${listenerName(listener)}: grant User:${user} that ACL (docs/security.md lists the ACLs a job needs)`,
      { cause: error },
    );
  }
  return error;
}

/**
 * As explainKafkaError, and a topic refusal over several topics (a transaction writes outputs, late records and
 * changelogs in one request) narrowed to the topics the user lacks the operation on. Kafka does not say which topic it
 * refused, and kafkajs reports the first partition's error of the answer, which may be another partition's
 * OPERATION_NOT_ATTEMPTED; so Metadata v12 is asked which operations the user may do on each topic. Where that cannot
 * be read, a TOPIC_AUTHORIZATION_FAILED names every topic.
 */
export async function explainKafkaErrorPrecisely(error: unknown, listener: KafkaListener, accesses: readonly KafkaAccess[] = []): Promise<unknown> {
  const topicAccess = accesses.find((access) => access.kind === 'topic');
  const types = new Set(chain(error).map((link) => link.type));
  const refusedTopic = types.has('TOPIC_AUTHORIZATION_FAILED');
  const worthAsking = refusedTopic ? (topicAccess?.names.length ?? 0) > 1 : types.has('OPERATION_NOT_ATTEMPTED');
  if (!worthAsking || topicAccess === undefined || !(topicAccess.operation in ACL_OPERATION_CODES)) return explainKafkaError(error, listener, accesses);
  const bit = 1 << ACL_OPERATION_CODES[topicAccess.operation as keyof typeof ACL_OPERATION_CODES];
  let lacking: string[];
  try {
    const topics = await readTopicMetadata(listener.brokers, listener.connection, topicAccess.names, { authorizedOperations: true, timeoutMs: 5000 });
    // A topic missing from the answer is one the user may not even DESCRIBE.
    lacking = topicAccess.names.filter((name) => {
      const operations = topics.get(name)?.authorizedOperations;
      return operations === undefined || (operations & bit) === 0;
    });
  } catch {
    lacking = [];
  }
  if (lacking.length === 0) return explainKafkaError(error, listener, accesses);
  const narrowed = accesses.map((access) => (access === topicAccess ? { ...access, names: lacking } : access));
  const refusal = refusedTopic ? error : Object.assign(new Error('a topic of the request was refused'), { type: 'TOPIC_AUTHORIZATION_FAILED', cause: error });
  return explainKafkaError(refusal, listener, narrowed);
}
