// What a generated workload is: a seeded sequence of events (fields without event time) over a fixed set of keys.

export interface Workload {
  /** The next event's fields in a fixed order, without `timestamp` (the generator's clock adds it last). */
  next(): Record<string, unknown>;
}

export interface WorkloadSpec {
  /** Fields that may partition the stream (each value of one stays on one partition); the first is the default. */
  readonly keyFields: readonly [string, ...string[]];
  /** A fresh sequence: the same seed, key count and rate (events a second of event time) always give the same events. */
  create(seed: number | string, keys: number, rate: number): Workload;
}
