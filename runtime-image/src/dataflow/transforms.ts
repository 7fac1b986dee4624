// The stateless operators over user functions: filter, map and flatMap. A record that makes the function throw goes to the dead letters.
import { messageOf, showValue } from '../error-message.js';
import type { Operator, OperatorContext, StreamRecord } from './operator.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the three share: watermarks pass straight through, there is no state to restore, failures become dead letters. */
abstract class UserFunctionOperator implements Operator {
  readonly id: string;
  protected readonly context: OperatorContext;

  constructor(context: OperatorContext) {
    this.id = context.operatorId;
    this.context = context;
  }

  abstract processRecord(record: StreamRecord): void;

  processWatermark(watermark: number): void {
    this.context.output.watermark(watermark);
  }

  restore(): void {
    // Stateless: nothing is held in memory that state would have to rebuild.
  }

  protected fail(reason: string, record: StreamRecord): void {
    this.context.deadLetter(`${this.id}: ${reason}`, record);
  }
}

// The typed API's functions take the record as their stream's type T; records carry plain objects at run time, hence `as T`.

class FilterOperator<T> extends UserFunctionOperator {
  constructor(
    context: OperatorContext,
    private readonly test: (value: T) => boolean,
  ) {
    super(context);
  }

  processRecord(record: StreamRecord): void {
    let keep: unknown;
    try {
      keep = this.test(record.value as T);
    } catch (error) {
      this.fail(messageOf(error), record);
      return;
    }
    if (keep === true) this.context.output.record(record);
    else if (keep !== false) this.fail(`the filter returned ${showValue(keep)}, not true or false`, record);
  }
}

class MapOperator<T> extends UserFunctionOperator {
  constructor(
    context: OperatorContext,
    private readonly transform: (value: T) => Record<string, unknown>,
  ) {
    super(context);
  }

  processRecord(record: StreamRecord): void {
    let value: unknown;
    try {
      value = this.transform(record.value as T);
    } catch (error) {
      this.fail(messageOf(error), record);
      return;
    }
    if (isRecord(value)) this.context.output.record({ ...record, value });
    else this.fail(`map returned ${showValue(value)}, not a record (an object)`, record);
  }
}

class FlatMapOperator<T> extends UserFunctionOperator {
  constructor(
    context: OperatorContext,
    private readonly expand: (value: T) => Iterable<Record<string, unknown>>,
  ) {
    super(context);
  }

  processRecord(record: StreamRecord): void {
    let values: unknown[];
    try {
      // Collected first, so a function that throws half-way emits nothing for this record.
      values = [...this.expand(record.value as T)];
    } catch (error) {
      this.fail(messageOf(error), record);
      return;
    }
    const wrong = values.find((value) => !isRecord(value));
    if (wrong !== undefined) {
      this.fail(`flatMap returned ${showValue(wrong)} among its records, not a record (an object)`, record);
      return;
    }
    for (const value of values as Record<string, unknown>[]) this.context.output.record({ ...record, value });
  }
}

export const filterOperator =
  <T>(test: (value: T) => boolean) =>
  (context: OperatorContext): Operator =>
    new FilterOperator(context, test);

export const mapOperator =
  <T>(transform: (value: T) => Record<string, unknown>) =>
  (context: OperatorContext): Operator =>
    new MapOperator(context, transform);

export const flatMapOperator =
  <T>(expand: (value: T) => Iterable<Record<string, unknown>>) =>
  (context: OperatorContext): Operator =>
    new FlatMapOperator(context, expand);
