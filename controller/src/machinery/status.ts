// Status writes: merge-patch the status subresource only when it changed, so a reconcile that changes nothing writes nothing.
import { isDeepStrictEqual } from 'node:util';
import type { CustomResource, CustomResources } from './custom-resources.js';
import { keyOfObject } from './custom-resources.js';

/** Patches `next` over the object's status when any of its fields differ; true when it wrote. */
export async function patchStatusIfChanged<T extends CustomResource, S extends object>(resources: CustomResources<T>, object: T, next: S): Promise<boolean> {
  const current = (object.status ?? {}) as Record<string, unknown>;
  const changed = Object.entries(next).some(([field, value]) => !isDeepStrictEqual(current[field], value === null ? undefined : value));
  if (!changed) return false;
  await resources.patchStatus(keyOfObject(object), next);
  return true;
}
