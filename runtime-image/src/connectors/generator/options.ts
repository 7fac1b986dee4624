// The generator's options, their defaults, and the checks that say which option is wrong and what to write instead.
import { SluiceError } from '@sluice/crds/errors';
import { clickstream } from './clickstream.js';
import { logins } from './logins.js';
import { transactions } from './transactions.js';
import type { WorkloadSpec } from './workload.js';

export const WORKLOADS = { transactions, clickstream, logins } as const satisfies Record<string, WorkloadSpec>;
export type WorkloadName = keyof typeof WORKLOADS;

/** The default start of event time: fixed, so that a seed alone decides the stream. */
export const DEFAULT_START = Date.parse('2025-12-05T00:00:00.000Z');
/** Event-time spacing when `rate` is 0 (as fast as possible): as if 1000 events per second. */
export const UNPACED_RATE = 1000;

export interface GeneratorOptions {
  workload: WorkloadName;
  /** Same seed, same options → byte-identical stream. Default 1. */
  seed?: number | string;
  /** Events per second of event time: event i is at start + i/rate. 0 = as fast as possible, spaced as at 1000/s. Default 1000. */
  rate?: number;
  /** Distinct customers (transactions) or users (clickstream, logins). Default 10 000. */
  keys?: number;
  /** Max out-of-orderness, ms: each event's time is moved back by a uniform 0…disorder. Default 0 (in order). */
  disorder?: number;
  /** Fraction of events moved a further `lateBy` back, so that they arrive late. Default 0. */
  lateFraction?: number;
  /** How far late events are behind, ms; make it exceed the job's maxOutOfOrderness + allowedLateness + window size. Default 1 h. */
  lateBy?: number;
  /** Partitions; events are assigned by Kafka's partitioner on `keyField`, so each key stays on one partition. Default 1. */
  partitions?: number;
  /** The field that partitions the stream; default the workload's main key (customer_id or user_id). */
  keyField?: string;
  /** Event time of the first event: epoch ms, an ISO-8601 string, or 'now'. Default 2025-12-05T00:00:00Z. */
  start?: number | string;
  /** Total events; absent = unbounded. */
  count?: number;
  /** Events generated per step (each step yields one batch per partition that got events). Default 1024. */
  batchSize?: number;
}

export interface ResolvedOptions {
  workload: WorkloadName;
  seed: number | string;
  rate: number;
  keys: number;
  disorder: number;
  lateFraction: number;
  lateBy: number;
  partitions: number;
  keyField: string;
  start: number;
  count: number | undefined;
  batchSize: number;
}

export class GeneratorOptionsError extends SluiceError {
  override readonly code = 'SLUICE_E_GENERATOR_OPTIONS';
}

/** Fills in defaults and checks every option; `now` is read once, here, for `start: 'now'`. */
export function resolveOptions(options: GeneratorOptions, now: () => number = Date.now): ResolvedOptions {
  const spec: WorkloadSpec | undefined = Object.hasOwn(WORKLOADS, options.workload) ? WORKLOADS[options.workload] : undefined;
  if (!spec) throw new GeneratorOptionsError(`generator workload "${String(options.workload)}" is unknown; use one of ${Object.keys(WORKLOADS).join(', ')}`);
  const keyField = options.keyField ?? spec.keyFields[0];
  if (!spec.keyFields.includes(keyField)) {
    throw new GeneratorOptionsError(
      `generator keyField "${keyField}" cannot partition the ${options.workload} workload; use one of ${spec.keyFields.join(', ')}`,
    );
  }
  const seed = options.seed ?? 1;
  if (typeof seed === 'number' && !Number.isSafeInteger(seed))
    throw new GeneratorOptionsError(`generator seed ${seed} is not an integer; use an integer or a string`);
  return {
    workload: options.workload,
    seed,
    rate: number('rate', options.rate ?? 1000, { min: 0 }),
    keys: number('keys', options.keys ?? 10_000, { min: 1, integer: true }),
    disorder: number('disorder', options.disorder ?? 0, { min: 0, integer: true, unit: 'ms' }),
    lateFraction: number('lateFraction', options.lateFraction ?? 0, { min: 0, max: 1 }),
    lateBy: number('lateBy', options.lateBy ?? 3_600_000, { min: 0, integer: true, unit: 'ms' }),
    partitions: number('partitions', options.partitions ?? 1, { min: 1, integer: true }),
    keyField,
    start: start(options.start, now),
    count: options.count === undefined ? undefined : number('count', options.count, { min: 0, integer: true }),
    batchSize: number('batchSize', options.batchSize ?? 1024, { min: 1, integer: true }),
  };
}

interface Bounds {
  min: number;
  max?: number;
  integer?: boolean;
  unit?: string;
}

function number(name: string, value: number, bounds: Bounds): number {
  const unit = bounds.unit ? ` (${bounds.unit})` : '';
  const range = bounds.max === undefined ? `≥ ${bounds.min}` : `between ${bounds.min} and ${bounds.max}`;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= bounds.min &&
    (bounds.max === undefined || value <= bounds.max) &&
    (!bounds.integer || Number.isInteger(value));
  if (!ok)
    throw new GeneratorOptionsError(
      `generator ${name} ${JSON.stringify(value)} is not valid; use ${bounds.integer ? 'an integer' : 'a number'} ${range}${unit}`,
    );
  return value;
}

function start(value: number | string | undefined, now: () => number): number {
  if (value === undefined) return DEFAULT_START;
  if (value === 'now') return now();
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isSafeInteger(ms))
    throw new GeneratorOptionsError(
      `generator start ${JSON.stringify(value)} is not a time; use epoch milliseconds, an ISO-8601 time such as 2025-12-05T00:00:00Z, or "now"`,
    );
  return ms;
}
