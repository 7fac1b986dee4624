#!/usr/bin/env node
// `sluice-registry`: serve the Confluent-compatible schema registry from a file or Kafka store.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { messageOf } from '@sluice/crds/errors';
import { kafkaConnectionFromDir } from '@sluice/crds/kafka-connection';
import { createRegistry } from './http/app.js';
import { parseUsers, type RegistryUser } from './http/auth.js';
import { storeFromSpec } from './store/open.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('sluice-registry')
  .usage('$0 --port P [--host 127.0.0.1] --store file:DIR|kafka:BOOTSTRAP\n\nA Confluent Schema Registry-compatible REST service.')
  .option('port', { type: 'number', default: 8081, describe: 'port to listen on' })
  .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (0.0.0.0 inside a container)' })
  .option('store', { type: 'string', default: 'file:./schemas', describe: 'where schemas are kept: file:DIR or kafka:HOST:PORT[,HOST:PORT]' })
  .option('kafka-topic', { type: 'string', default: '_schemas', describe: 'the compacted log topic of a kafka: store' })
  .option('kafka-secret-dir', {
    type: 'string',
    default: process.env.SLUICE_KAFKA_SECRET_DIR,
    describe:
      'a folder with the Kafka Secret mounted (security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca, ...; one file per key) for TLS and SASL ($SLUICE_KAFKA_SECRET_DIR)',
  })
  .option('users-file', {
    type: 'string',
    default: process.env.SLUICE_REGISTRY_USERS_FILE,
    describe:
      'a file of the users who may call the registry, one NAME: PASSWORD a line (NAME: PASSWORD,read-only for a user that may only GET); without it every client may ($SLUICE_REGISTRY_USERS_FILE)',
  })
  .option('tls-cert', {
    type: 'string',
    default: process.env.SLUICE_REGISTRY_TLS_CERT,
    describe: 'a PEM certificate (and its chain): serve HTTPS ($SLUICE_REGISTRY_TLS_CERT)',
  })
  .option('tls-key', { type: 'string', default: process.env.SLUICE_REGISTRY_TLS_KEY, describe: 'the PEM key of --tls-cert ($SLUICE_REGISTRY_TLS_KEY)' })
  .option('log-level', { type: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] })
  .example('$0 --port 8081 --store file:/var/lib/sluice/schemas', 'serve the registry from a local folder')
  .example('$0 --port 8081 --store kafka:127.0.0.1:9092', 'serve it from the _schemas topic; replicas on the same topic agree')
  .example('$0 --users-file /etc/sluice/users --tls-cert tls.crt --tls-key tls.key', 'serve HTTPS to the users in the file only')
  .strict()
  .help()
  .parseAsync();

try {
  const app = createRegistry({
    store: storeFromSpec(argv.store, { kafkaTopic: argv['kafka-topic'], kafkaConnection: kafkaConnectionFromDir(argv['kafka-secret-dir']) }),
    logger: { level: argv['log-level'] },
    users: usersFrom(argv['users-file']),
    tls: tlsFrom(argv['tls-cert'], argv['tls-key']),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.close().then(() => process.exit(0));
    });
  }
  await app.listen({ port: argv.port, host: argv.host });
} catch (error) {
  // A registry that cannot start says why in one line (a held folder, an unreachable Kafka, a bad --store), not a stack.
  process.stderr.write(`sluice-registry: ${messageOf(error)}\n`);
  process.exit(1);
}

function usersFrom(file: string | undefined): RegistryUser[] | undefined {
  return file === undefined || file === '' ? undefined : parseUsers(readFile(file, '--users-file'), `the users file ${file}`);
}

function tlsFrom(cert: string | undefined, key: string | undefined): { cert: string; key: string } | undefined {
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error(`TLS needs both --tls-cert and --tls-key: set ${cert ? '--tls-key' : '--tls-cert'} too`);
  return { cert: readFile(cert, '--tls-cert'), key: readFile(key, '--tls-key') };
}

function readFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path} (${option}): ${messageOf(error)}`, { cause: error });
  }
}
