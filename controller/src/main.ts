#!/usr/bin/env node
// sluice-controller: the operator's process. Outside a cluster it uses a kubeconfig; inside, its service account.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { kafkaConnectionFromDir } from '@sluice/crds';
import { REGISTRY_ENV, registryConnectionFromEnv } from '@sluice/crds/registry-connection';
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { leaderElectionDefaults } from './machinery/leader-election.js';
import { leaderIdentity, startManager } from './manager.js';

const serviceAccountNamespace = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const argv = await yargs(hideBin(process.argv))
  .scriptName('sluice-controller')
  .usage(
    '$0 [options]\n\nReconciles Sluice Topics (Kafka topics), SchemaSubjects (schema registry subjects) and StreamJobs (runtime pods, savepoints, upgrades) in the watched namespaces.',
  )
  .option('kubeconfig', { type: 'string', describe: 'Path of a kubeconfig; without it $KUBECONFIG, ~/.kube/config, or the in-cluster service account' })
  .option('namespace', { alias: 'n', type: 'string', array: true, describe: 'A namespace to watch (repeat for several); without it, all namespaces' })
  .option('kafka-bootstrap', {
    type: 'string',
    demandOption: true,
    default: process.env.SLUICE_KAFKA_BOOTSTRAP,
    describe: 'Kafka bootstrap servers, host:port[,host:port] ($SLUICE_KAFKA_BOOTSTRAP)',
  })
  .option('kafka-secret-dir', {
    type: 'string',
    default: process.env.SLUICE_KAFKA_SECRET_DIR,
    describe:
      'A folder with the Kafka Secret mounted (security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca, ...; one file per key) for TLS and SASL ($SLUICE_KAFKA_SECRET_DIR)',
  })
  .option('registry-url', {
    type: 'string',
    default: process.env.SLUICE_REGISTRY_URL,
    describe: 'The schema registry for SchemaSubjects without spec.registryUrl ($SLUICE_REGISTRY_URL)',
  })
  .option('metrics-port', { type: 'number', default: 8080, describe: 'Port of /healthz and /metrics' })
  .option('metrics-bind-address', {
    type: 'string',
    default: '127.0.0.1',
    describe: 'Address of /healthz and /metrics (0.0.0.0 in a pod, for probes and Prometheus)',
  })
  .option('leader-elect', {
    type: 'boolean',
    default: true,
    describe: 'Elect one active controller through a Lease (--no-leader-elect for a single local process)',
  })
  .option('leader-election-namespace', { type: 'string', describe: "Namespace of the Lease; default the pod's namespace, else default" })
  .option('lease-duration', {
    type: 'number',
    default: 15,
    describe: 'Seconds a leader holds the Lease without renewing it (how long a successor waits after a crash)',
  })
  .option('resync-period', {
    type: 'number',
    default: 120,
    describe: 'Seconds between full reconciles of every resource, which correct changes made behind the controller',
  })
  .option('workers', { type: 'number', default: 4, describe: 'Reconciles running at once per kind' })
  .option('runtime-image', {
    type: 'string',
    default: process.env.SLUICE_RUNTIME_IMAGE,
    describe: 'The runtime image of StreamJobs without spec.image ($SLUICE_RUNTIME_IMAGE); default the one released with this controller',
  })
  .option('snapshot-location', {
    type: 'string',
    default: process.env.SLUICE_SNAPSHOT_LOCATION,
    describe: 's3://bucket/prefix (or a folder) for the checkpoints and savepoints of StreamJobs that name no location ($SLUICE_SNAPSHOT_LOCATION)',
  })
  .option('redis-url', {
    type: 'string',
    default: process.env.SLUICE_REDIS_URL,
    describe: 'redis://host:port of the feature store for StreamJobs with a Redis sink and no spec.connections.redis.url ($SLUICE_REDIS_URL)',
  })
  .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error'] })
  .example('$0 --kubeconfig ~/.kube/config --kafka-bootstrap localhost:9092 --no-leader-elect', 'Run on a laptop against a cluster, one process')
  .example('$0 -n payments -n fraud --kafka-bootstrap kafka:9092 --registry-url http://sluice-registry:8081', 'Watch two namespaces, with a default registry')
  .example('$0 --kafka-bootstrap kafka:9092 --metrics-bind-address 0.0.0.0', 'In a pod: its service account, leader election on, probes reachable')
  .strict()
  .help()
  .parseAsync();

const log = pino({ level: argv['log-level'], base: { component: 'sluice-controller' } });

const kubeconfig = new KubeConfig();
if (argv.kubeconfig !== undefined) kubeconfig.loadFromFile(argv.kubeconfig);
else kubeconfig.loadFromDefault();

const inClusterNamespace = existsSync(serviceAccountNamespace) ? readFileSync(serviceAccountNamespace, 'utf8').trim() : undefined;
const leaseNamespace = argv['leader-election-namespace'] ?? inClusterNamespace ?? 'default';
const leaseDurationMs = argv['lease-duration'] * 1000;
const brokers = (argv['kafka-bootstrap'] ?? '').split(',').filter((broker) => broker !== '');
if (brokers.length === 0) {
  log.fatal('no Kafka bootstrap servers: pass --kafka-bootstrap host:port or set SLUICE_KAFKA_BOOTSTRAP');
  process.exit(2);
}

const manager = await startManager({
  kubeconfig,
  namespaces: argv.namespace === undefined || argv.namespace.length === 0 ? { all: true } : { all: false, names: argv.namespace },
  kafkaBrokers: brokers,
  kafkaConnection: kafkaConnectionFromDir(argv['kafka-secret-dir']),
  defaultRegistryUrl: argv['registry-url'],
  registryConnection: registryConnectionFromEnv(
    process.env,
    `the controller's ${REGISTRY_ENV.user} and ${REGISTRY_ENV.password} (the chart: the Secret of registry.auth.clientSecretName)`,
  ),
  metricsPort: argv['metrics-port'],
  metricsHost: argv['metrics-bind-address'],
  leaderElection: argv['leader-elect']
    ? {
        ...leaderElectionDefaults(leaseNamespace, leaderIdentity()),
        leaseDurationMs,
        renewDeadlineMs: (leaseDurationMs * 2) / 3,
        retryPeriodMs: Math.max(500, leaseDurationMs / 7),
      }
    : undefined,
  resyncPeriodMs: argv['resync-period'] * 1000,
  workers: argv.workers,
  streamJobs: {
    ...(argv['runtime-image'] === undefined ? {} : { runtimeImage: argv['runtime-image'] }),
    ...(argv['snapshot-location'] === undefined ? {} : { snapshotLocation: argv['snapshot-location'] }),
    ...(argv['redis-url'] === undefined ? {} : { redisUrl: argv['redis-url'] }),
  },
  log,
  // A process that lost the Lease exits, and its restart competes again.
  onLeadershipLost: () => process.exit(1),
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'stopping');
    manager.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
