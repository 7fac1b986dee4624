// Status writes: merge-patch the status subresource only when it changed, so a reconcile that changes nothing writes nothing.
import { isDeepStrictEqual } from 'node:util';
import { keyOfObject, type CustomResource, type ResourceClient } from './custom-resources.js';

/** Patches `next` over the object's status when any of its fields differ; true when it wrote. */
export async function patchStatusIfChanged<T extends CustomResource, S extends object>(resources: ResourceClient<T>, object: T, next: S): Promise<boolean> {
  const current = (object.status ?? {}) as Record<string, unknown>;
  const changed = Object.entries(next).some(([field, value]) => !sameJson(current[field], value === null ? undefined : value));
  if (!changed) return false;
  await resources.patchStatus(keyOfObject(object), next);
  return true;
}

/** Equal as the API server stores them: undefined fields dropped, whatever realm or prototype the objects come from. */
function sameJson(a: unknown, b: unknown): boolean {
  const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
  return isDeepStrictEqual(plain(a), plain(b));
}
