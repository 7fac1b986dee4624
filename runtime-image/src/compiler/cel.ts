// CEL expressions over records (@marcbachmann/cel-js): parsed and checked once per job, evaluated per record with the record's fields as variables.
import { SluiceError } from '@sluice/crds/errors';
import { Environment } from '@marcbachmann/cel-js';
import { messageOf, showValue } from '../error-message.js';
import { CEL_LIMITS, CelBudget, CelBudgetExceeded, estimateCost, formatCount, meterEvaluation } from './cel-cost.js';

/** An expression that does not parse or check; the message says where and what is wrong, without the field path (the compiler adds it). */
export class CelCompileError extends SluiceError {
  override readonly code = 'SLUICE_E_CEL';
}

/** An expression that failed on one record (a missing field, no such overload); the message becomes that record's dead-letter reason. */
export class CelEvaluationError extends SluiceError {
  override readonly code = 'SLUICE_E_CEL_EVAL';
}

/** A compiled expression: call it with a record, get a plain JSON-safe value back. */
export interface CelExpression {
  /** The expression as written. */
  readonly source: string;
  /** What the checker knows the result to be: `bool`, `string`, `int`, …, or `dyn` when it depends on the record. */
  readonly resultType: string;
  /** Evaluates over one record; throws CelEvaluationError. Integers come back as numbers, timestamps as ISO-8601 strings. */
  evaluate(record: Record<string, unknown>): unknown;
}

/** The variable that holds the whole record, as in Kubernetes' CEL rules: `has(self.amount)`, `self["field-with-dash"]`. */
export const RECORD_VARIABLE = 'self';

type Arithmetic = (a: number, b: number) => number;

const ARITHMETIC: Record<string, Arithmetic> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
};

/**
 * One environment for every job. Record fields are undeclared variables of type dyn. JSON has one kind of number,
 * which CEL reads as double; so that `amount * 2` works as users expect instead of failing with "no such overload",
 * doubles and int literals mix in arithmetic, giving a double.
 */
function createEnvironment(): Environment {
  const environment = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false, limits: { maxDepth: CEL_LIMITS.maxNesting } });
  for (const [operator, apply] of Object.entries(ARITHMETIC)) {
    environment.registerOperator(`double ${operator} int`, (a: number, b: bigint) => apply(a, Number(b)));
    environment.registerOperator(`int ${operator} double`, (a: bigint, b: number) => apply(Number(a), b));
  }
  return environment;
}

let shared: Environment | undefined;

function environment(): Environment {
  shared ??= createEnvironment();
  return shared;
}

/** cel-js's message without its source excerpt, with the column it points at: one line, as field errors are. */
function describe(error: unknown): string {
  if ((error as { code?: unknown }).code === 'limit_exceeded' && messageOf(error).includes('maxDepth')) return nestingLimit();
  const summary = messageOf(error).split('\n')[0]!.trim();
  const start = (error as { range?: { start?: unknown } }).range?.start;
  return typeof start === 'number' ? `${summary} (column ${start + 1})` : summary;
}

function nestingLimit(): string {
  return `nests parentheses, calls, lists, maps or field selections more than ${CEL_LIMITS.maxNesting} deep; flatten it, for example with cel.bind(name, value, expression) or a map step before this one`;
}

/** The limits a parsed expression is held to before it runs: its length first, as the API server checks it. */
function tooLong(source: string): string | undefined {
  if (source.length <= CEL_LIMITS.maxLength) return undefined;
  return (
    `is ${formatCount(source.length)} characters long, over the limit of ${formatCount(CEL_LIMITS.maxLength)}; ` +
    'shorten it or split the work over several steps (a map step that computes fields, then a filter over them)'
  );
}

function tooCostly(cost: number): string | undefined {
  if (cost <= CEL_LIMITS.maxCost) return undefined;
  return (
    `may cost ${formatCount(cost)} units per record, over the limit of ${formatCount(CEL_LIMITS.maxCost)} ` +
    `(every comprehension — all, exists, exists_one, map, filter — multiplies the cost of what it contains by its list's length, ` +
    `assumed ${CEL_LIMITS.assumedListLength} for a list in the record); nest fewer comprehensions or iterate shorter lists`
  );
}

/** Why one evaluation failed, in the record's terms where cel-js speaks of variables. */
function evaluationReason(error: unknown): string {
  const summary = messageOf(error).split('\n')[0]!.trim();
  const unknown = /^Unknown variable: (.+)$/.exec(summary);
  return unknown === null ? summary : `the record has no field ${unknown[1]!}; guard it with has(self.${unknown[1]!})`;
}

interface AstLike {
  op: string;
  args: unknown;
}

function isAst(value: unknown): value is AstLike {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

/** The names the expression reads as variables (macro variables such as `i` in `items.map(i, …)` included). */
function variableNames(node: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const child of node) variableNames(child, names);
  else if (isAst(node)) {
    if (node.op === 'id' && typeof node.args === 'string') names.add(node.args);
    else variableNames(node.args, names);
  }
  return names;
}

/**
 * For expressions that name `self`: one reusable context whose getters read the current record, so binding the
 * record costs an assignment rather than a copy of its fields. Names the record lacks read as undefined, which cel-js
 * reports as an unknown variable, as it does for a record passed directly.
 */
function recordBinder(names: ReadonlySet<string>): (record: Record<string, unknown>) => Record<string, unknown> {
  const context = { record: {} as Record<string, unknown> };
  for (const name of names) {
    Object.defineProperty(context, name, {
      enumerable: true,
      get: name === RECORD_VARIABLE ? () => context.record : () => context.record[name],
    });
  }
  return (record) => {
    context.record = record;
    return context;
  };
}

/**
 * Parses and type-checks `source` and holds it to CEL_LIMITS (length, nesting, estimated cost); throws CelCompileError
 * with cel-js's message (it points at the column) or the limit passed. Its evaluations are metered against the cost limit.
 */
export function compileCel(source: string): CelExpression {
  if (typeof source !== 'string' || source.trim() === '') throw new CelCompileError('is empty; write a CEL expression such as amount > 100.0');
  const length = tooLong(source);
  if (length !== undefined) throw new CelCompileError(length);
  let program: ReturnType<Environment['parse']>;
  try {
    program = environment().parse(source);
  } catch (error) {
    throw new CelCompileError(`is not valid CEL: ${describe(error)}`);
  }
  const checked = program.check();
  if (!checked.valid) throw new CelCompileError(`does not type-check: ${describe(checked.error)}`);
  const cost = tooCostly(estimateCost(program.ast));
  if (cost !== undefined) throw new CelCompileError(cost);
  const budget = new CelBudget();
  meterEvaluation(program.ast, budget);
  const names = variableNames(program.ast);
  const bind = names.has(RECORD_VARIABLE) ? recordBinder(names) : (record: Record<string, unknown>) => record;
  const failed = (reason: string) => new CelEvaluationError(`${JSON.stringify(source)} failed: ${reason}`);
  return {
    source,
    resultType: checked.type ?? 'dyn',
    evaluate(record) {
      budget.reset();
      let result: unknown;
      try {
        result = program(bind(record));
      } catch (error) {
        throw failed(budget.exceeded ? budget.reason : evaluationReason(error));
      }
      // An exceeded budget may have been absorbed by ||, && or a quantifier that another operand decided.
      if (budget.exceeded) throw failed(budget.reason);
      try {
        return toJson(result, source, budget);
      } catch (error) {
        if (error instanceof CelBudgetExceeded) throw failed(error.message);
        throw error;
      }
    },
  };
}

/**
 * A CEL value as plain JSON: int and uint as numbers, timestamps as ISO-8601, durations as CEL's "1800s", maps as
 * objects. With a budget, each element copied is charged: a result may repeat a large part of the record many times.
 */
export function toJson(value: unknown, source: string, budget?: CelBudget): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CelEvaluationError(`${JSON.stringify(source)} gave ${value}, which JSON cannot hold`);
      return value;
    case 'bigint': {
      const number = Number(value);
      if (!Number.isSafeInteger(number))
        throw new CelEvaluationError(`${JSON.stringify(source)} gave ${value}, beyond the integers JSON holds exactly (±2^53)`);
      return number;
    }
    case 'object':
      return objectToJson(value, source, budget);
    default:
      throw new CelEvaluationError(`${JSON.stringify(source)} gave a ${typeof value}, which has no JSON form`);
  }
}

function objectToJson(value: object | null, source: string, budget: CelBudget | undefined): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) {
    budget?.charge(value.length);
    return value.map((element) => toJson(element, source, budget));
  }
  if (value instanceof Date) {
    // cel-js lets timestamp arithmetic leave the Date range; such a Date holds NaN and toISOString would throw a bare RangeError.
    if (Number.isNaN(value.getTime()))
      throw new CelEvaluationError(
        `${JSON.stringify(source)} gave a timestamp beyond the range of dates (±8.64e15 ms, about 275,000 years, from 1970), which has no ISO-8601 form`,
      );
    return value.toISOString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Map) {
    budget?.charge(value.size);
    const object: Record<string, unknown> = {};
    for (const [key, element] of value) object[String(key)] = toJson(element, source, budget);
    return object;
  }
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === Object.prototype || prototype === null) {
    const entries = Object.entries(value);
    budget?.charge(entries.length);
    const object: Record<string, unknown> = {};
    for (const [key, element] of entries) object[key] = toJson(element, source, budget);
    return object;
  }
  // cel-js's own types: UnsignedInt (valueOf gives a bigint), Duration (toString gives "1800s"), types.
  const primitive: unknown = (value as { valueOf(): unknown }).valueOf();
  if (typeof primitive === 'bigint') return toJson(primitive, source, budget);
  const text = (value as { toString(): string }).toString();
  if (text === '[object Object]') throw new CelEvaluationError(`${JSON.stringify(source)} gave ${showValue(value)}, which has no JSON form`);
  return text;
}
