// Finalizers: the controller's hold on an object, so it can clean up Kafka or the registry before the object goes.
import type { CustomResource, ResourceClient } from './custom-resources.js';

export function hasFinalizer(object: CustomResource, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(object: CustomResource): boolean {
  return object.metadata.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

/** Adds the finalizer if missing; returns the object as stored afterwards. */
export async function ensureFinalizer<T extends CustomResource>(resources: ResourceClient<T>, object: T, finalizer: string): Promise<T> {
  if (hasFinalizer(object, finalizer)) return object;
  return resources.setFinalizers(object, [...(object.metadata.finalizers ?? []), finalizer]);
}

export async function removeFinalizer<T extends CustomResource>(resources: ResourceClient<T>, object: T, finalizer: string): Promise<void> {
  if (!hasFinalizer(object, finalizer)) return;
  await resources.setFinalizers(
    object,
    (object.metadata.finalizers ?? []).filter((name) => name !== finalizer),
  );
}
