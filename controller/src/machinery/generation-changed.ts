// controller-runtime's GenerationChangedPredicate: which watch events are news for a reconciler that drives itself through requeues, remembering only objects that exist.
import type { ObjectMeta } from '@sluice/crds';

/** What the informer saw happen to an object. */
export type WatchEvent = 'add' | 'update' | 'delete';

export class GenerationChanged {
  /** The generation last let through, per uid; an object's entry goes with its delete event, so memory follows the objects that exist. */
  readonly #seen = new Map<string, number | undefined>();

  /**
   * True when the event is news: an object not seen before, a new generation, a deletion begun or done. A status the
   * reconciler wrote (same generation) is not, so it does not bring the object straight back.
   */
  admits(object: { metadata: ObjectMeta }, event: WatchEvent): boolean {
    const uid = object.metadata.uid ?? '';
    if (event === 'delete') {
      this.#seen.delete(uid);
      return true;
    }
    if (this.#seen.has(uid) && this.#seen.get(uid) === object.metadata.generation && object.metadata.deletionTimestamp === undefined) return false;
    this.#seen.set(uid, object.metadata.generation);
    return true;
  }

  /** How many objects it remembers. */
  get size(): number {
    return this.#seen.size;
  }
}
