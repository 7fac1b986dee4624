// controller-runtime's EnqueueRequestForOwner (OnlyControllerOwner): the work-queue key of the object that controls an owned one, so a change to what a reconciler made requeues the object it made it for.
import { keyOf } from './reconciler.js';

/** The kind of owner a controller reconciles, as an ownerReference names it. */
export interface OwnerKind {
  /** The API group ('' for the core group). */
  group: string;
  kind: string;
}

/** What of an object's metadata says who owns it; client-node's objects and the generated Sluice kinds both have it. */
export interface Owned {
  metadata?: {
    namespace?: string;
    ownerReferences?: readonly { apiVersion: string; kind: string; name: string; controller?: boolean }[];
  };
}

/**
 * The key (`namespace/name`) of the object's controller — the ownerReference with `controller: true` — when it is of
 * `owner`'s kind; undefined for an object something else controls, or nothing. Owners live in the owned object's namespace.
 */
export function controllerOwnerKey(object: Owned, owner: OwnerKind): string | undefined {
  const namespace = object.metadata?.namespace;
  const controller = object.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  if (namespace === undefined || controller === undefined) return undefined;
  if (controller.kind !== owner.kind || groupOf(controller.apiVersion) !== owner.group) return undefined;
  return keyOf({ namespace, name: controller.name });
}

/** The group of an apiVersion: `apps/v1` → `apps`, `v1` → '' (the core group). */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
