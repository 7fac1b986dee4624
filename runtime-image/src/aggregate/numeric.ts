// count, sum, min, max and avg: accumulators whose state is one or two numbers.
import type { Json } from '../state/keyed.js';
import { type Accumulator, type AggregateKind, isFiniteNumber, isJson, unreadableState } from './accumulator.js';

class CountAccumulator implements Accumulator<Json> {
  constructor(private count = 0) {}
  add(): void {
    this.count += 1;
  }
  merge(other: CountAccumulator): void {
    this.count += other.count;
  }
  result(): number {
    return this.count;
  }
  toJSON(): number {
    return this.count;
  }
}

/** Counts records, or with a field the records where it is not null. */
export const count: AggregateKind<Json> = {
  expects: 'any value',
  accepts: isJson,
  create: () => new CountAccumulator(),
  restore: (json) => {
    if (!isFiniteNumber(json)) throw unreadableState('count', json);
    return new CountAccumulator(json);
  },
};

/** A number or null (nothing added yet), folded with `combine`: sum, min, max. */
class FoldAccumulator implements Accumulator<number> {
  constructor(
    private readonly combine: (a: number, b: number) => number,
    private value: number | null = null,
  ) {}
  add(input: number): void {
    this.value = this.value === null ? input : this.combine(this.value, input);
  }
  merge(other: FoldAccumulator): void {
    if (other.value !== null) this.add(other.value);
  }
  result(): number | null {
    return this.value;
  }
  toJSON(): number | null {
    return this.value;
  }
}

function fold(fn: string, combine: (a: number, b: number) => number): AggregateKind<number> {
  return {
    expects: 'a number',
    accepts: isFiniteNumber,
    create: () => new FoldAccumulator(combine),
    restore: (json) => {
      if (json !== null && !isFiniteNumber(json)) throw unreadableState(fn, json);
      return new FoldAccumulator(combine, json);
    },
  };
}

/** Min and max are null for a window whose values were all null, as in SQL. */
export const min = fold('min', Math.min);
export const max = fold('max', Math.max);

const maxDecimalScale = 12;

/** The digits of a number written in decimal, as an integer and its scale (12.05 → 1205n, 2), or undefined past the scale. */
function decimalOf(input: number): { units: bigint; scale: number } | undefined {
  const written = String(input);
  if (written.includes('e')) return undefined;
  const point = written.indexOf('.');
  const scale = point < 0 ? 0 : written.length - point - 1;
  if (scale > maxDecimalScale) return undefined;
  return { units: BigInt(point < 0 ? written : written.slice(0, point) + written.slice(point + 1)), scale };
}

/**
 * A sum in decimal, as SQL's DECIMAL: amounts such as 120.5 + 89.99 + 45.25 + 300.59 give 556.33, as the user
 * computes by hand, not binary floating point's 556.3299999999999. A value with more than 12 decimals, or
 * beyond what decimal digits can write, turns the sum into a plain floating-point one.
 */
class DecimalSum {
  constructor(
    private units = 0n,
    private scale = 0,
    private float: number | null = null,
  ) {}
  add(input: number): void {
    const decimal = this.float === null ? decimalOf(input) : undefined;
    if (decimal === undefined) {
      this.float = this.value() + input;
      return;
    }
    if (decimal.scale > this.scale) {
      this.units *= 10n ** BigInt(decimal.scale - this.scale);
      this.scale = decimal.scale;
    }
    this.units += decimal.units * 10n ** BigInt(this.scale - decimal.scale);
  }
  addSum(other: DecimalSum): void {
    if (this.float !== null || other.float !== null) {
      this.float = this.value() + other.value();
      return;
    }
    const scale = Math.max(this.scale, other.scale);
    this.units = this.units * 10n ** BigInt(scale - this.scale) + other.units * 10n ** BigInt(scale - other.scale);
    this.scale = scale;
  }
  value(): number {
    if (this.float !== null) return this.float;
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0');
    const point = digits.length - this.scale;
    return Number(`${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point) || '0'}`);
  }
  /** JSON-safe: the decimal digits as a string with their scale, or the floating-point total. */
  toJSON(): [string, number] | number {
    return this.float ?? [this.units.toString(), this.scale];
  }
  static fromJSON(json: Json): DecimalSum | undefined {
    if (isFiniteNumber(json)) return new DecimalSum(0n, 0, json);
    if (Array.isArray(json) && json.length === 2 && typeof json[0] === 'string' && /^-?\d+$/.test(json[0]) && isFiniteNumber(json[1])) {
      return new DecimalSum(BigInt(json[0]), json[1]);
    }
    return undefined;
  }
}

class SumAccumulator implements Accumulator<number> {
  constructor(
    private readonly sum = new DecimalSum(),
    private empty = true,
  ) {}
  add(input: number): void {
    this.sum.add(input);
    this.empty = false;
  }
  merge(other: SumAccumulator): void {
    if (other.empty) return;
    this.sum.addSum(other.sum);
    this.empty = false;
  }
  /** Null for a window whose values were all null, as in SQL. */
  result(): number | null {
    return this.empty ? null : this.sum.value();
  }
  toJSON(): Json {
    return this.empty ? null : this.sum.toJSON();
  }
}

export const sum: AggregateKind<number> = {
  expects: 'a number',
  accepts: isFiniteNumber,
  create: () => new SumAccumulator(),
  restore: (json) => {
    if (json === null) return new SumAccumulator();
    const restored = DecimalSum.fromJSON(json);
    if (restored === undefined) throw unreadableState('sum', json);
    return new SumAccumulator(restored, false);
  },
};

class AverageAccumulator implements Accumulator<number> {
  constructor(
    private readonly total = new DecimalSum(),
    private count = 0,
  ) {}
  add(input: number): void {
    this.total.add(input);
    this.count += 1;
  }
  merge(other: AverageAccumulator): void {
    this.total.addSum(other.total);
    this.count += other.count;
  }
  result(): number | null {
    return this.count === 0 ? null : this.total.value() / this.count;
  }
  toJSON(): [Json, number] {
    return [this.total.toJSON(), this.count];
  }
}

export const avg: AggregateKind<number> = {
  expects: 'a number',
  accepts: isFiniteNumber,
  create: () => new AverageAccumulator(),
  restore: (json) => {
    const total = Array.isArray(json) && json.length === 2 ? DecimalSum.fromJSON(json[0] as Json) : undefined;
    const count = Array.isArray(json) ? json[1] : undefined;
    if (total === undefined || !isFiniteNumber(count)) throw unreadableState('avg', json);
    return new AverageAccumulator(total, count);
  },
};
