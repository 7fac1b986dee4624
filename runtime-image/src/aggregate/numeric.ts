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

/** Sum, min and max are null for a window whose values were all null, as in SQL. */
export const sum = fold('sum', (a, b) => a + b);
export const min = fold('min', Math.min);
export const max = fold('max', Math.max);

class AverageAccumulator implements Accumulator<number> {
  constructor(
    private total = 0,
    private count = 0,
  ) {}
  add(input: number): void {
    this.total += input;
    this.count += 1;
  }
  merge(other: AverageAccumulator): void {
    this.total += other.total;
    this.count += other.count;
  }
  result(): number | null {
    return this.count === 0 ? null : this.total / this.count;
  }
  toJSON(): [number, number] {
    return [this.total, this.count];
  }
}

export const avg: AggregateKind<number> = {
  expects: 'a number',
  accepts: isFiniteNumber,
  create: () => new AverageAccumulator(),
  restore: (json) => {
    if (!Array.isArray(json) || json.length !== 2 || !isFiniteNumber(json[0]) || !isFiniteNumber(json[1])) {
      throw unreadableState('avg', json);
    }
    return new AverageAccumulator(json[0], json[1]);
  },
};
