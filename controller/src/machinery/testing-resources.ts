// An in-memory ResourceClient for unit tests of reconcilers: resourceVersions, finalizers, deletion and status merge patches as the API server does them.
import type { CustomResource, ResourceClient } from './custom-resources.js';
import { keyOf, type ObjectKey } from './reconciler.js';

export class TestingResources<T extends CustomResource> implements ResourceClient<T> {
  private readonly objects = new Map<string, T>();
  private version = 0;
  /** Every write, in order, for tests that check what was written when. */
  readonly writes: { kind: 'finalizers' | 'status'; object: T }[] = [];
  /** Called with each status patch before it is stored; a test throws from it to crash the controller at that write. */
  beforeStatusPatch: ((status: object) => void) | undefined;

  /** Stores a new object as `kubectl apply` would: generation 1, a uid, a creation time. */
  apply(object: T): T {
    const key = keyOf({ namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '' });
    const previous = this.objects.get(key);
    const stored = structuredClone(object);
    stored.metadata = {
      ...stored.metadata,
      uid: previous?.metadata.uid ?? `uid-${key}`,
      creationTimestamp: previous?.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z',
      generation: (previous?.metadata.generation ?? 0) + 1,
      finalizers: previous?.metadata.finalizers ?? stored.metadata.finalizers,
      resourceVersion: String(++this.version),
    };
    stored.status = previous?.status;
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  /** Marks the object deleted; it goes once its finalizers are removed. */
  delete(key: ObjectKey): void {
    const object = this.objects.get(keyOf(key));
    if (object === undefined) return;
    if ((object.metadata.finalizers ?? []).length === 0) this.objects.delete(keyOf(key));
    else object.metadata = { ...object.metadata, deletionTimestamp: '2026-01-01T00:01:00Z', resourceVersion: String(++this.version) };
  }

  get(key: ObjectKey): Promise<T | undefined> {
    const object = this.objects.get(keyOf(key));
    return Promise.resolve(object === undefined ? undefined : structuredClone(object));
  }

  setFinalizers(object: T, finalizers: string[]): Promise<T> {
    const key = keyOf({ namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '' });
    const stored = this.objects.get(key);
    if (stored === undefined) return Promise.reject(new Error(`${key} not found`));
    if (stored.metadata.resourceVersion !== object.metadata.resourceVersion) return Promise.reject(new Error(`${key} changed since it was read (conflict)`));
    stored.metadata = { ...stored.metadata, finalizers, resourceVersion: String(++this.version) };
    if (finalizers.length === 0 && stored.metadata.deletionTimestamp !== undefined) this.objects.delete(key);
    this.writes.push({ kind: 'finalizers', object: structuredClone(stored) });
    return Promise.resolve(structuredClone(stored));
  }

  patchStatus(key: ObjectKey, status: object): Promise<T> {
    const stored = this.objects.get(keyOf(key));
    if (stored === undefined) return Promise.reject(new Error(`${keyOf(key)} not found`));
    try {
      this.beforeStatusPatch?.(status);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    stored.status = mergePatch(stored.status ?? {}, status) as T['status'];
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    this.writes.push({ kind: 'status', object: structuredClone(stored) });
    return Promise.resolve(structuredClone(stored));
  }
}

/** RFC 7386: objects merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete result[field];
    else result[field] = mergePatch(result[field], value);
  }
  return result;
}
