// What a CEL expression may cost: the limits, the worst-case estimate made from the parsed expression before any record is seen, and the budget metered per record as it runs.
import type { ASTNode } from '@marcbachmann/cel-js';
import { SluiceError } from '@sluice/crds/errors';

/**
 * One expression's limits. A unit of cost is about one operator evaluated: each element a comprehension visits costs
 * the operators of its body, and concatenating or searching a list costs its length, as in Kubernetes' CEL cost model.
 */
export const CEL_LIMITS = {
  /** Characters in one expression; the StreamJob CRD gives its expression fields the same maxLength. */
  maxLength: 2048,
  /** Parentheses, calls, lists, maps and field selections nested in one another. */
  maxNesting: 32,
  /** Units one expression may cost: its estimate before the job starts, and its budget for each record. */
  maxCost: 1_000_000,
  /** The length the estimate assumes for a list whose length only the record knows (a record's field, split()). */
  assumedListLength: 100,
} as const;

/** Numbers in messages: digits grouped as people read them, an exponent where they would not fit a line. */
export function formatCount(count: number): string {
  return count < 1e15 ? Math.ceil(count).toLocaleString('en-US') : count.toExponential(1);
}

/** What the estimate knows about one value: the worst-case cost of computing it and, for a list or map, its length. */
interface Estimate {
  cost: number;
  /** Elements of the list or entries of the map; the assumed list length when only the record knows. */
  length: number;
  /** Known to be a list the expression builds (a literal, a map() or filter() result, a concatenation of them). */
  list: boolean;
}

type Scope = ReadonlyMap<string, Estimate>;

const ASSUMED: Estimate = { cost: 1, length: CEL_LIMITS.assumedListLength, list: false };

/** The macros that loop over a list (or a map's keys) and run their body once per element. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const LIST_RESULTS = new Set(['map', 'filter']);

/**
 * The worst-case cost of evaluating `ast` once, as Kubernetes estimates its CRD validation rules: every operator costs
 * one, a comprehension costs its body times its list's length, nesting multiplies, and a list the record holds is
 * assumed to have CEL_LIMITS.assumedListLength elements.
 */
export function estimateCost(ast: ASTNode): number {
  return estimate(ast, new Map()).cost;
}

function estimate(node: ASTNode, scope: Scope): Estimate {
  switch (node.op) {
    case 'value':
      return { cost: 1, length: 1, list: false };
    case 'id':
      return scope.get(node.args) ?? ASSUMED;
    case 'list':
      return { cost: 1 + totalCost(node.args, scope), length: node.args.length, list: true };
    case 'map':
      return { cost: 1 + totalCost(node.args.flat(), scope), length: node.args.length, list: false };
    case 'rcall':
      return estimateMethod(node.args, scope);
    case '+': {
      const [left, right] = node.args.map((operand) => estimate(operand, scope)) as [Estimate, Estimate];
      const list = left.list || right.list;
      // Concatenating lists copies both; strings and numbers are not charged by length before the record is known.
      const copied = list ? left.length + right.length : 0;
      return { cost: 1 + left.cost + right.cost + copied, length: list ? left.length + right.length : ASSUMED.length, list };
    }
    case 'in': {
      const [element, collection] = node.args.map((operand) => estimate(operand, scope)) as [Estimate, Estimate];
      return { cost: 1 + element.cost + collection.cost + collection.length, length: 1, list: false };
    }
    case '?:': {
      const [condition, whenTrue, whenFalse] = node.args.map((operand) => estimate(operand, scope)) as [Estimate, Estimate, Estimate];
      const costlier = whenTrue.cost >= whenFalse.cost ? whenTrue : whenFalse;
      return { cost: 1 + condition.cost + costlier.cost, length: Math.max(whenTrue.length, whenFalse.length), list: whenTrue.list || whenFalse.list };
    }
    default:
      return { cost: 1 + totalCost(operandsOf(node), scope), length: ASSUMED.length, list: false };
  }
}

function totalCost(nodes: readonly ASTNode[], scope: Scope): number {
  let cost = 0;
  for (const node of nodes) cost += estimate(node, scope).cost;
  return cost;
}

/** The nodes an operator evaluates, for the operators the estimate charges one for. */
function operandsOf(node: ASTNode): ASTNode[] {
  switch (node.op) {
    case 'value':
    case 'id':
      return [];
    case '.':
    case '.?':
      return [node.args[0]];
    case '!_':
    case '-_':
      return [node.args];
    case 'call':
      return node.args[1];
    case 'rcall':
      return [node.args[1], ...node.args[2]];
    case 'list':
      return node.args;
    case 'map':
      return node.args.flat();
    default:
      return node.args;
  }
}

/** A method call: a comprehension, cel.bind, or an ordinary function such as startsWith. */
function estimateMethod([name, receiver, args]: [string, ASTNode, ASTNode[]], scope: Scope): Estimate {
  const variable = args[0]?.op === 'id' ? args[0].args : undefined;
  if (COMPREHENSIONS.has(name) && variable !== undefined && (args.length === 2 || (name === 'map' && args.length === 3))) {
    const range = estimate(receiver, scope);
    const inner = new Map(scope).set(variable, ASSUMED);
    const body = totalCost(args.slice(1), inner);
    return { cost: 1 + range.cost + range.length * (body + 1), length: LIST_RESULTS.has(name) ? range.length : 1, list: LIST_RESULTS.has(name) };
  }
  if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel' && variable !== undefined && args.length === 3) {
    const bound = estimate(args[1]!, scope);
    const result = estimate(args[2]!, new Map(scope).set(variable, { ...bound, cost: 1 }));
    return { ...result, cost: 1 + bound.cost + result.cost };
  }
  const length = name === 'split' ? ASSUMED.length : 1;
  return { cost: 1 + estimate(receiver, scope).cost + totalCost(args, scope), length, list: false };
}

/** Thrown inside cel-js when a record's evaluation runs out of budget; the expression turns it into its dead-letter reason. */
export class CelBudgetExceeded extends SluiceError {
  override readonly code = 'SLUICE_E_CEL_BUDGET';

  constructor(limit: number) {
    super(
      `the record needs more than ${formatCount(limit)} units of CEL work (its lists are longer, or its values larger, than one record may make this expression handle); ` +
        'nest fewer comprehensions (all, exists, exists_one, map, filter) or shorten the lists upstream',
    );
  }
}

/**
 * One expression's budget for the record being evaluated. A charge beyond the limit throws, and the budget stays
 * exceeded until reset: cel-js lets `||`, `&&`, all() and exists() absorb an error when other operands decide the
 * result, so the caller checks `exceeded` after the evaluation too.
 */
export class CelBudget {
  spent = 0;
  exceeded = false;
  /** Built once: a record over budget may throw it thousands of times while quantifiers absorb it, and a stack trace each time would cost more than the work refused. */
  readonly #refusal: CelBudgetExceeded;

  constructor(readonly limit: number = CEL_LIMITS.maxCost) {
    this.#refusal = new CelBudgetExceeded(limit);
  }

  /** Why a record over budget fails, for its dead-letter reason. */
  get reason(): string {
    return this.#refusal.message;
  }

  reset(): void {
    this.spent = 0;
    this.exceeded = false;
  }

  charge(units: number): void {
    this.spent += units;
    if (this.spent > this.limit) {
      this.exceeded = true;
      throw this.#refusal;
    }
  }
}

/**
 * cel-js's parsed nodes beyond their typed surface: a macro's expansion (a comprehension, a cel.bind), and the handler
 * each operator calls with its evaluated operands, set when the expression is checked.
 */
interface CheckedNode {
  op: string;
  args: unknown;
  readonly meta: { alternate?: CheckedNode; macro?: { val?: unknown; exp?: unknown; args?: unknown } };
  handle?: Handler;
}

type Handler = (this: unknown, first: unknown, second: unknown, third: unknown, fourth: unknown) => unknown;

function isNode(value: unknown): value is CheckedNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'meta' in value;
}

/** What a node evaluates: its macro's expansion where it has one. */
function evaluated(node: CheckedNode): CheckedNode {
  return node.meta.alternate ?? node;
}

function childrenOf(node: CheckedNode): CheckedNode[] {
  const macro = node.meta.macro;
  if (macro !== undefined) return [macro.val, macro.exp, macro.args].flatMap(nodesIn);
  if (node.op === 'comprehension') {
    const { iterable, init, step } = node.args as Record<string, unknown>;
    return [iterable, init, step].flatMap(nodesIn);
  }
  return nodesIn(node.args);
}

function nodesIn(value: unknown): CheckedNode[] {
  if (isNode(value)) return [value];
  return Array.isArray(value) ? value.flatMap(nodesIn) : [];
}

/** Operators in one element's body, counting a nested comprehension's setup only: its own loop charges when it runs. */
function bodyCost(node: CheckedNode): number {
  const target = evaluated(node);
  if (target.op === 'comprehension') {
    const { iterable, init } = target.args as Record<string, unknown>;
    return 1 + nodesIn([iterable, init]).reduce((sum, child) => sum + bodyCost(child), 0);
  }
  return 1 + childrenOf(target).reduce((sum, child) => sum + bodyCost(child), 0);
}

/** Elements a comprehension visits: a list's length, or a map's keys. */
function lengthOf(value: unknown): number {
  if (Array.isArray(value) || typeof value === 'string') return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (value instanceof Uint8Array) return value.length;
  return typeof value === 'object' && value !== null ? Object.keys(value).length : 0;
}

/** Kubernetes charges a tenth of a unit per character a string operation copies or scans. */
const CHARACTERS_PER_UNIT = 10;

function copyCost(left: unknown, right: unknown): number {
  if (Array.isArray(left) || Array.isArray(right)) return lengthOf(left) + lengthOf(right);
  if (typeof left === 'string' && typeof right === 'string') return Math.floor((left.length + right.length) / CHARACTERS_PER_UNIT);
  if (left instanceof Uint8Array && right instanceof Uint8Array) return Math.floor((left.length + right.length) / CHARACTERS_PER_UNIT);
  return 0;
}

/** What an operator costs beyond one, from its operands as evaluated: copying lists and strings, scanning a list. */
const CHARGED_OPERATORS: Record<string, (left: unknown, right: unknown) => number> = {
  '+': copyCost,
  in: (_element, collection) => (Array.isArray(collection) ? collection.length : 0),
  '==': (left, right) => (Array.isArray(left) && Array.isArray(right) ? Math.min(left.length, right.length) : 0),
  '!=': (left, right) => (Array.isArray(left) && Array.isArray(right) ? Math.min(left.length, right.length) : 0),
};

/**
 * Makes a checked expression charge `budget` as it runs: a comprehension charges its list's length times its body's
 * operators before it starts, so an expensive record is refused before the work is done; `+`, `in`, `==` and `!=`
 * charge the lists and strings they copy or scan. Operators that do neither are left as they are, so an expression
 * without comprehensions runs at cel-js's own speed.
 */
export function meterEvaluation(ast: unknown, budget: CelBudget): void {
  const seen = new Set<CheckedNode>();
  const pending = nodesIn(ast);
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const target = evaluated(node);
    if (seen.has(target)) continue;
    seen.add(target);
    meterNode(target, budget);
    pending.push(...childrenOf(target));
  }
}

function meterNode(node: CheckedNode, budget: CelBudget): void {
  const handle = node.handle;
  if (node.op === 'comprehension') {
    if (handle === undefined) throw new Error('cel-js gave a comprehension no handler to meter; the CEL budget needs updating for this cel-js version');
    const perElement = bodyCost((node.args as { step: CheckedNode }).step) + 1;
    node.handle = function metered(items, args, evaluator, context) {
      budget.charge(lengthOf(items) * perElement);
      return handle.call(this, items, args, evaluator, context);
    };
    return;
  }
  const cost = CHARGED_OPERATORS[node.op];
  if (cost === undefined || handle === undefined) return;
  node.handle = function metered(left, right, ast, evaluator) {
    const units = cost(left, right);
    if (units > 0) budget.charge(units);
    return handle.call(this, left, right, ast, evaluator);
  };
}
