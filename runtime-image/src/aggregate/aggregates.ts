// The aggregates a window computes, as users name them ({ name, fn, field | value, q }), compiled through one table of functions.
import { SluiceError } from '@sluice/crds/errors';
import type { Aggregate as AggregateManifest } from '@sluice/crds';
import { messageOf, showValue } from '../error-message.js';
import type { Json } from '../state/keyed.js';
import type { Accumulator, AggregateKind } from './accumulator.js';
import { countDistinct } from './count-distinct.js';
import { first, last } from './first-last.js';
import { avg, count, max, min, sum } from './numeric.js';
import { percentile } from './percentile.js';

/** The aggregate functions, as the StreamJob CRD's generated types name them (FUNCTIONS below must cover each). */
export type AggregateFn = AggregateManifest['fn'];

export interface AggregateSpec<T = Record<string, unknown>> {
  /** The name of the result field: `txn_count`. */
  name: string;
  fn: AggregateFn;
  /** The record field to aggregate; `count` without one counts records. */
  field?: keyof T & string;
  /** Instead of a field, the value to aggregate computed from the record (a CEL expression, compiled). */
  value?: (record: T) => unknown;
  /** For `percentile`: the quantile, between 0 and 1 (0.99 for p99). */
  q?: number;
}

/** One compiled aggregate: reads its input from a record, and creates or restores its accumulator. */
export interface Aggregate {
  readonly name: string;
  /** The input to add, or undefined to skip the record (a null or missing value); throws AggregateInputError. */
  read(record: Record<string, unknown>): unknown;
  create(): Accumulator<unknown>;
  restore(json: Json): Accumulator<unknown>;
}

/** A spec that cannot be compiled; the message names the aggregate and says what to change. */
export class AggregateSpecError extends SluiceError {
  override readonly code = 'SLUICE_E_AGGREGATE';
}

/** A record whose value cannot be aggregated; the message (a dead letter's reason) names the aggregate and the value. */
export class AggregateInputError extends SluiceError {
  override readonly code = 'SLUICE_E_AGGREGATE_INPUT';
}

interface AggregateFunction {
  /** Whether the function needs a field or value: only `count` can count records without one. */
  readonly needsValue: boolean;
  kind(spec: Pick<AggregateSpec, 'name' | 'q'>): AggregateKind<unknown>;
}

const FUNCTIONS: Record<AggregateFn, AggregateFunction> = {
  count: { needsValue: false, kind: () => count },
  sum: { needsValue: true, kind: () => sum },
  min: { needsValue: true, kind: () => min },
  max: { needsValue: true, kind: () => max },
  avg: { needsValue: true, kind: () => avg },
  first: { needsValue: true, kind: () => first },
  last: { needsValue: true, kind: () => last },
  count_distinct: { needsValue: true, kind: () => countDistinct },
  percentile: {
    needsValue: true,
    kind: (spec) => {
      if (spec.q === undefined) throw new AggregateSpecError(`aggregate ${spec.name}: percentile needs q, the quantile between 0 and 1 (0.99 for p99)`);
      try {
        return percentile(spec.q);
      } catch (error) {
        throw new AggregateSpecError(`aggregate ${spec.name}: ${messageOf(error)}`);
      }
    },
  },
};

export const AGGREGATE_FUNCTIONS = Object.keys(FUNCTIONS) as readonly AggregateFn[];

function compileOne<T>(spec: AggregateSpec<T>): Aggregate {
  const { name } = spec;
  if (!Object.hasOwn(FUNCTIONS, spec.fn)) {
    throw new AggregateSpecError(`aggregate ${name}: ${showValue(spec.fn)} is not an aggregate function; use one of ${AGGREGATE_FUNCTIONS.join(', ')}`);
  }
  const fn = FUNCTIONS[spec.fn];
  if (spec.field !== undefined && spec.value !== undefined) {
    throw new AggregateSpecError(`aggregate ${name}: give either a field or a value, not both`);
  }
  if (fn.needsValue && spec.field === undefined && spec.value === undefined) {
    throw new AggregateSpecError(`aggregate ${name}: ${spec.fn} needs a field (or a value) to aggregate`);
  }
  if (spec.q !== undefined && spec.fn !== 'percentile') {
    throw new AggregateSpecError(`aggregate ${name}: q is only for percentile; remove it from ${spec.fn}`);
  }
  const kind = fn.kind(spec);
  const { field, value } = spec;
  const source = field ?? 'its value';
  const readValue =
    // Records are plain objects at run time; the typed API promised they are the stream's T.
    value !== undefined
      ? (record: Record<string, unknown>) => value(record as T)
      : field !== undefined
        ? (record: Record<string, unknown>) => record[field]
        : () => true;
  return {
    name,
    read(record) {
      let input: unknown;
      try {
        input = readValue(record);
      } catch (error) {
        throw new AggregateInputError(`aggregate ${name}: ${messageOf(error)}`);
      }
      if (input === null || input === undefined) return undefined;
      if (!kind.accepts(input)) throw new AggregateInputError(`aggregate ${name}: ${source} is ${showValue(input)}, not ${kind.expects}`);
      return input;
    },
    create: () => kind.create(),
    restore: (json) => kind.restore(json),
  };
}

/** Compiles a window's aggregates; their names must be distinct, as they become the result's fields. */
export function compileAggregates<T>(specs: readonly AggregateSpec<T>[]): Aggregate[] {
  if (specs.length === 0) throw new AggregateSpecError('a window needs at least one aggregate, such as { name: "count", fn: "count" }');
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (typeof name !== 'string' || name === '') throw new AggregateSpecError('every aggregate needs a name: the result field it fills');
    if (seen.has(name)) throw new AggregateSpecError(`aggregate ${name} is named twice; give each aggregate its own name`);
    seen.add(name);
  }
  return specs.map((spec) => compileOne(spec));
}
