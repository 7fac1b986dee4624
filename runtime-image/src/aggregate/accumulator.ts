// The contract of an aggregate function: which inputs it takes, and its accumulator (add, merge, result, JSON form).
import type { Json } from '../state/keyed.js';

/**
 * The running state of one aggregate in one window. It lives in keyed state, so `toJSON` gives plain
 * JSON that the function's `restore` turns back into an equal accumulator.
 */
export interface Accumulator<I> {
  /** Adds one input (accepted by the function) with its record's event time. */
  add(input: I, timestamp: number): void;
  /** Folds another accumulator of the same function in (session windows merging); on equal event times, `other`'s inputs count as arriving later. */
  merge(other: this): void;
  result(): Json;
  toJSON(): Json;
}

export interface AggregateKind<I> {
  /** What an input must be, for error messages: "a number". */
  readonly expects: string;
  /** Whether a value read from a record can be added; null and missing values never reach here, they are skipped. */
  accepts(value: unknown): value is I;
  create(): Accumulator<I>;
  restore(json: Json): Accumulator<I>;
}

/** The error for state that does not have the shape this accumulator writes. */
export function unreadableState(fn: string, json: Json): Error {
  return new TypeError(`the ${fn} state ${JSON.stringify(json)} is not one this version wrote; restore from a snapshot of the same job`);
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isJson(value: unknown): value is Json {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol' && typeof value !== 'bigint';
}
