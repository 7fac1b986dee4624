// What counts as a change the runtime pods must be redeployed for, and the lifecycle settings read from a spec.
import type { StreamJobSpec } from '@sluice/crds';
import { desiredReplicas, heldBackAfterRollback, readinessTimeoutMs, savepointIntervalMs, specHash, withRuntimeOf } from './spec.js';

const base: StreamJobSpec = {
  sources: [{ name: 'transactions', kafka: { topic: 'transactions' } }],
  pipeline: [{ keyBy: { field: 'customer_id' } }],
  sinks: [{ name: 'out', stdout: {} }],
  parallelism: 2,
};

describe('the runtime spec hash', () => {
  it('changes with the pipeline, the sinks and where savepoints go', () => {
    expect(specHash({ ...base, pipeline: [{ keyBy: { field: 'account_id' } }] })).not.toBe(specHash(base));
    expect(specHash({ ...base, savepoints: { location: 's3://other/prefix' } })).not.toBe(specHash(base));
  });

  it('stays for what only the controller reads: parallelism, suspend, triggers, retention, readiness timeout, upgrade mode', () => {
    const hash = specHash(base);
    expect(specHash({ ...base, parallelism: 5 })).toBe(hash);
    expect(specHash({ ...base, suspend: true })).toBe(hash);
    expect(specHash({ ...base, savepointTrigger: 'now', restartNonce: 'again' })).toBe(hash);
    expect(specHash({ ...base, savepoints: { interval: '1h', retention: { count: 3 } } })).toBe(hash);
    expect(specHash({ ...base, readinessTimeout: '1m', upgradeMode: 'stateless' })).toBe(hash);
  });

  it('does not depend on the order of keys', () => {
    const reordered = { sinks: base.sinks, parallelism: 2, pipeline: base.pipeline, sources: base.sources } as StreamJobSpec;
    expect(specHash(reordered)).toBe(specHash(base));
  });
});

describe('lifecycle settings', () => {
  it('runs no pods while suspended and parallelism pods otherwise, 1 by default', () => {
    expect(desiredReplicas({ ...base, suspend: true })).toBe(0);
    expect(desiredReplicas(base)).toBe(2);
    expect(desiredReplicas({ ...base, parallelism: undefined })).toBe(1);
  });

  it('reads the readiness timeout (5 minutes by default) and the savepoint interval', () => {
    expect(readinessTimeoutMs(base)).toBe(300_000);
    expect(readinessTimeoutMs({ ...base, readinessTimeout: '90s' })).toBe(90_000);
    expect(savepointIntervalMs(base)).toBeUndefined();
    expect(savepointIntervalMs({ ...base, savepoints: { interval: '1h' } })).toBe(3_600_000);
  });
});

describe('a spec held back after a rollback', () => {
  it('runs the stable runtime spec with its own parallelism, suspend and restart nonce', () => {
    const rolledBack = {
      ...base,
      image: 'ghcr.io/sluice/broken:1',
      parallelism: 3,
      suspend: true,
      restartNonce: 'again',
      savepoints: { interval: '1h' },
    } as StreamJobSpec;
    const held = withRuntimeOf(rolledBack, { ...base, savepoints: { location: 's3://b/sp' } });
    expect(specHash(held)).toBe(specHash({ ...base, savepoints: { location: 's3://b/sp' } }));
    expect(held).toMatchObject({ parallelism: 3, suspend: true, restartNonce: 'again', savepoints: { interval: '1h', location: 's3://b/sp' } });
    expect(held.image).toBeUndefined();
  });

  it('holds back the spec of the job when it failed, and keeps holding it back when a rescale of the stable spec fails', () => {
    const broken = { ...base, image: 'ghcr.io/sluice/broken:1', parallelism: 3 } as StreamJobSpec;
    expect(heldBackAfterRollback(broken, specHash(broken), undefined)).toBe(specHash(broken));
    // The rescale ran the stable runtime spec (held = base's runtime) and was rolled back: the broken spec stays held back.
    expect(heldBackAfterRollback(broken, specHash(base), specHash(broken))).toBe(specHash(broken));
    expect(heldBackAfterRollback(base, specHash(broken), undefined)).toBeUndefined();
  });
});
