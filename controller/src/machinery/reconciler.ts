// The reconcile contract, written on the interface as controller-runtime writes it.
import { SluiceError } from '@sluice/crds/errors';
/** Which object to reconcile: the work queue's key is `namespace/name`. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export function keyOf(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  if (slash < 0) throw new Error(`work queue key "${key}" is not namespace/name`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** What to do with the key after a reconcile that did not throw. */
export interface Result {
  /** Come back after this long (the world is moving: a deletion in progress, a resource not there yet). */
  requeueAfterMs?: number;
}

export const done: Result = {};

/**
 * A failure that retrying cannot fix (an invalid spec, a refused change): the key is not requeued; the reconciler has
 * written a condition that says why, and a change to the resource (or the periodic resync) brings it back.
 */
export class TerminalError extends SluiceError {
  override readonly code = 'SLUICE_E_TERMINAL';

  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Makes the world match one object's spec, one step per call. It reads the current state itself (never trusting the
 * event that queued the key) and is safe to call again at any moment: after a crash in the middle, twice in a row, or
 * after a restart.
 *
 * - returns `done` → the key is forgotten (its backoff reset) until the next watch event or resync;
 * - returns `{ requeueAfterMs }` → the key comes back after that long, its backoff reset;
 * - throws a `TerminalError` → the key is not requeued;
 * - throws anything else → the key is requeued with its per-key exponential backoff.
 */
export interface Reconciler {
  /** The kind it reconciles, for logs and metric labels. */
  readonly kind: string;
  reconcile(key: ObjectKey): Promise<Result>;
}
