// Two controllers on one Lease: only the leader reconciles, the other takes over when it stops; /healthz and /metrics on the way.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { leaderElectionDefaults, type RunningManager } from '@sluice/controller';
import { cleanNamespace, create, kubeconfig, prepareNamespace, randomName, runController, until } from './controller/harness.js';

const coordination = kubeconfig.makeApiClient(CoordinationV1Api);
let namespace: string;
const managers: RunningManager[] = [];

beforeAll(async () => {
  namespace = await prepareNamespace('sluice-leader');
});

afterAll(async () => {
  for (const manager of managers) await manager.stop();
  const cleaner = await runController(namespace);
  await cleanNamespace(namespace);
  await cleaner.stop();
});

function election(identity: string) {
  return { ...leaderElectionDefaults(namespace, identity), leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 };
}

const lease = () => coordination.readNamespacedLease({ namespace, name: 'sluice-controller' });

describe('leader election', () => {
  it('lets only the Lease holder act, hands over when it stops, and serves /healthz and /metrics', async () => {
    const first = await runController(namespace, { leaderElection: election('first'), metricsPort: 0 });
    managers.push(first);
    expect((await lease()).spec?.holderIdentity).toBe('first');
    const second = runController(namespace, { leaderElection: election('second'), metricsPort: 0 });

    const before = randomName('led-by-first');
    await create('topics', namespace, { metadata: { name: before }, spec: { partitions: 1, deletionPolicy: 'delete' } });
    await until('topics', namespace, before, 'Ready', 'True', 'Ready');
    expect((await lease()).spec?.holderIdentity).toBe('first');

    const base = `http://127.0.0.1:${first.port}`;
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^sluice_controller_leader 1$/m);
    expect(metrics).toMatch(/^sluice_controller_reconcile_total\{kind="Topic",result="done"\} [1-9]/m);
    expect(metrics).toMatch(/^sluice_controller_reconcile_duration_seconds_count\{kind="Topic"\} [1-9]/m);
    expect(metrics).toMatch(/^sluice_controller_queue_depth\{kind="Topic"\} 0$/m);

    const transitions = (await lease()).spec?.leaseTransitions ?? 0;
    await first.stop();
    managers.splice(managers.indexOf(first), 1);
    managers.push(await second);
    expect((await lease()).spec).toMatchObject({ holderIdentity: 'second', leaseTransitions: transitions + 1 });

    const after = randomName('led-by-second');
    await create('topics', namespace, { metadata: { name: after }, spec: { partitions: 2, deletionPolicy: 'delete' } });
    await until('topics', namespace, after, 'Ready', 'True', 'Ready');
  });
});
