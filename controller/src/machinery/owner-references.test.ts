// controllerOwnerKey: which owner's key a change to an owned object enqueues.
import { controllerOwnerKey } from './owner-references.js';

const streamJob = { group: 'sluice.dev', kind: 'StreamJob' };
const owned = (ownerReferences: { apiVersion: string; kind: string; name: string; controller?: boolean }[]) => ({
  metadata: { namespace: 'payments', ownerReferences },
});

describe('controllerOwnerKey', () => {
  it('names the controlling StreamJob in the owned object’s namespace', () => {
    expect(controllerOwnerKey(owned([{ apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', name: 'fraud', controller: true }]), streamJob)).toBe(
      'payments/fraud',
    );
  });

  it('skips owners that do not control it, and finds the one that does', () => {
    const references = [
      { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', name: 'watching', controller: false },
      { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', name: 'fraud', controller: true },
    ];
    expect(controllerOwnerKey(owned(references), streamJob)).toBe('payments/fraud');
  });

  it('names nothing when another kind, or the same kind of another group, controls it, or nothing does', () => {
    expect(controllerOwnerKey(owned([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'fraud', controller: true }]), streamJob)).toBeUndefined();
    expect(
      controllerOwnerKey(owned([{ apiVersion: 'flink.apache.org/v1beta1', kind: 'StreamJob', name: 'fraud', controller: true }]), streamJob),
    ).toBeUndefined();
    expect(controllerOwnerKey(owned([]), streamJob)).toBeUndefined();
    expect(controllerOwnerKey({ metadata: { namespace: 'payments' } }, streamJob)).toBeUndefined();
  });

  it('reads the core group from an apiVersion without a slash', () => {
    expect(controllerOwnerKey(owned([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', controller: true }]), { group: '', kind: 'ConfigMap' })).toBe(
      'payments/settings',
    );
  });
});
