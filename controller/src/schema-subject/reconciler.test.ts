// The SchemaSubject reconciler's decisions with the registry and the API server replaced by in-memory ones.
import type { SchemaSubject, SchemaSubjectSpec } from '@sluice/crds';
import { pino } from 'pino';
import { ManualClock } from '../machinery/manual-clock.js';
import { TerminalError } from '../machinery/reconciler.js';
import { TestingResources } from '../machinery/testing-resources.js';
import { SchemaSubjectReconciler } from './reconciler.js';
import { TestingRegistry } from './testing-registry.js';

const key = { namespace: 'payments', name: 'transactions-value' };
const v1 = '{"type":"record","name":"T","fields":[{"name":"id","type":"string"}]}';
const v2 = '{"type":"record","name":"T","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double","default":0}]}';
const breaking = '{"type":"record","name":"T","fields":[{"name":"merchant","type":"string"}]}';

function setup(configMaps: Record<string, Record<string, string>> = {}) {
  const subjects = new TestingResources<SchemaSubject>();
  const registry = new TestingRegistry((_previous, next) => (next.includes('merchant') ? ["reader field 'merchant' has no default"] : []));
  const reconciler = new SchemaSubjectReconciler({
    subjects,
    readConfigMap: (_namespace, name) => Promise.resolve(configMaps[name]),
    registry: () => registry,
    defaultRegistryUrl: registry.url,
    events: { record: () => undefined },
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
  });
  const apply = (spec: Partial<SchemaSubjectSpec>): SchemaSubject =>
    subjects.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'SchemaSubject', metadata: { ...key }, spec: { subject: 'transactions-value', ...spec } });
  const ready = async () => (await subjects.get(key))?.status?.conditions?.find((condition) => condition.type === 'Ready');
  return { subjects, registry, reconciler, apply, ready };
}

describe('SchemaSubjectReconciler', () => {
  it('sets the compatibility level before it registers, and reports id and version', async () => {
    const { subjects, registry, reconciler, apply, ready } = setup();
    apply({ schema: v1, compatibility: 'FULL' });
    await reconciler.reconcile(key);
    expect(registry.changes).toEqual(['config transactions-value FULL', 'register transactions-value']);
    expect((await subjects.get(key))?.status).toMatchObject({
      subject: 'transactions-value',
      id: 1,
      version: 1,
      registryUrl: registry.url,
      observedGeneration: 1,
    });
    expect(await ready()).toMatchObject({ status: 'True', reason: 'Registered' });
  });

  it('registers nothing for a schema the subject already holds', async () => {
    const { registry, reconciler, apply } = setup();
    apply({ schema: v1 });
    await reconciler.reconcile(key);
    await reconciler.reconcile(key);
    expect(registry.changes).toEqual(['register transactions-value']);
  });

  it('refuses an incompatible schema with the registry reasons and leaves the subject as it was', async () => {
    const { subjects, registry, reconciler, apply, ready } = setup();
    apply({ schema: v1 });
    await reconciler.reconcile(key);
    apply({ schema: breaking });
    await expect(reconciler.reconcile(key)).rejects.toBeInstanceOf(TerminalError);
    expect(registry.changes).toEqual(['register transactions-value']);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'IncompatibleSchema', observedGeneration: 2 });
    expect((await ready())?.message).toContain("reader field 'merchant' has no default");
    expect((await subjects.get(key))?.status).toMatchObject({ version: 1 });
    apply({ schema: v2 });
    await reconciler.reconcile(key);
    expect((await subjects.get(key))?.status).toMatchObject({ version: 2, id: 2 });
  });

  it('waits for a missing ConfigMap with SchemaSourceNotFound and registers its schema once it exists', async () => {
    const configMaps: Record<string, Record<string, string>> = {};
    const { registry, reconciler, apply, ready } = setup(configMaps);
    apply({ configMapRef: { name: 'schemas', key: 'transaction.avsc' } });
    await expect(reconciler.reconcile(key)).rejects.toBeInstanceOf(TerminalError);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'SchemaSourceNotFound' });
    configMaps.schemas = { 'transaction.avsc': v1 };
    await reconciler.reconcile(key);
    expect(registry.changes).toEqual(['register transactions-value']);
  });

  it.each([
    ['retain', []],
    ['soft', ['delete transactions-value']],
    ['hard', ['delete transactions-value', 'delete transactions-value permanent']],
  ] as const)('under deletionPolicy %s deletes what the policy says and removes its finalizer', async (deletionPolicy, deletes) => {
    const { subjects, registry, reconciler, apply } = setup();
    apply({ schema: v1, deletionPolicy });
    await reconciler.reconcile(key);
    subjects.delete(key);
    await reconciler.reconcile(key);
    expect(await subjects.get(key)).toBeUndefined();
    expect(registry.changes).toEqual(['register transactions-value', ...deletes]);
  });
});
