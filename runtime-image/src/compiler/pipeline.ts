// spec.pipeline → the DataStream API: filter, map, flatMap, keyBy and window + aggregate, each CEL expression compiled once.
import type { AggregateSpec } from '../aggregate/aggregates.js';
import { compileAggregates } from '../aggregate/aggregates.js';
import { type Dataflow, DataStream, type KeyedStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { session, sliding, tumbling, type WindowAssigner } from '../window/assigners.js';
import { type CelExpression, compileCel } from './cel.js';
import { compileJoin, type JoinSources, NO_JOIN_SOURCES } from './join.js';
import { compileMask, type MaskContext, maskContext } from './mask.js';
import { compilePattern } from './pattern.js';
import { compileScore } from './score.js';
import type { Problems } from './problems.js';
import { duration, fieldReader, isObject, positiveDuration, setKeys, type Spec } from './values.js';

type Row = Record<string, unknown>;

/** The operators a step may set; the last three are in the CRD but not in the engine yet. */
const OPERATORS = ['filter', 'map', 'flatMap', 'keyBy', 'window', 'join', 'pattern', 'dedupe', 'mask', 'score'] as const;
type OperatorName = (typeof OPERATORS)[number];

const LATER: Partial<Record<OperatorName, string>> = {
  dedupe: 'dedupe',
};

/** What the pipeline has built so far: a stream, or a keyed stream waiting for its window step. */
type Stage = { stream: DataStream<Row> } | { keyed: KeyedStream<Row>; keyPath: string };

function cel(problems: Problems, path: string, source: unknown): CelExpression | undefined {
  if (typeof source !== 'string') {
    problems.add(path, `${showValue(source)} is not a CEL expression; write one as a string`);
    return undefined;
  }
  return problems.attempt(path, () => compileCel(source));
}

/** A list or a map is what CEL's checker calls list<…> and map<…>; dyn may be anything until the record is known. */
function mayBe(expression: CelExpression, kind: 'bool' | 'list' | 'map'): boolean {
  const type = expression.resultType;
  return type === 'dyn' || type === kind || type.startsWith(`${kind}<`);
}

function isRecord(value: unknown): value is Row {
  return isObject(value);
}

export function compilePipeline(
  problems: Problems,
  steps: unknown,
  maxOutOfOrderness: number,
  sources: JoinSources = NO_JOIN_SOURCES,
  masks: MaskContext = maskContext(),
): Dataflow | undefined {
  let stage: Stage | undefined = { stream: DataStream.fromSource<Row>({ maxOutOfOrderness }) };
  const list = steps === undefined || steps === null ? [] : steps;
  if (!Array.isArray(list)) {
    problems.add('spec.pipeline', 'must be a list of steps, each with one operator such as filter or keyBy');
    return undefined;
  }
  for (const [index, step] of (list as unknown[]).entries()) {
    const path = `spec.pipeline[${index}]`;
    if (isObject(step)) stage = compileStep(problems, path, step, index, stage, sources, masks);
    else {
      problems.add(path, 'must be an object with one operator, for example { filter: amount > 100.0 }');
      stage = undefined;
    }
  }
  if (stage === undefined) return undefined;
  if ('keyed' in stage) {
    problems.add(stage.keyPath, 'must be followed by a window step: keyBy groups the stream for the window after it');
    return undefined;
  }
  return problems.list.length > 0 ? undefined : stage.stream.build();
}

/** One step; a failed step leaves the stage undefined so later steps are still checked but nothing is built. */
function compileStep(
  problems: Problems,
  path: string,
  step: Spec,
  index: number,
  stage: Stage | undefined,
  sources: JoinSources,
  masks: MaskContext,
): Stage | undefined {
  const operators = setKeys(step, OPERATORS) as OperatorName[];
  const hasAggregate = step.aggregate !== undefined;
  if (hasAggregate && !operators.includes('window')) {
    problems.add(`${path}.aggregate`, 'belongs to a window step: set window beside it, for example { type: tumbling, size: 5m }');
    return undefined;
  }
  if (operators.length !== 1) {
    problems.add(
      path,
      operators.length === 0
        ? 'set one operator: filter, map, flatMap, keyBy or window'
        : `set one operator per step, not ${operators.join(' and ')}; split it into ${operators.length} steps`,
    );
    return undefined;
  }
  const operator = operators[0]!;
  const later = LATER[operator];
  if (later !== undefined) {
    problems.notYet(`${path}.${operator}`, later, 'the engine runs filter, map, flatMap, keyBy and window steps today');
    return undefined;
  }
  const id = typeof step.id === 'string' && step.id !== '' ? step.id : `${operator}-${index}`;
  const idPath = step.id === undefined ? `${path}.${operator}` : `${path}.id`;
  if (operator === 'keyBy') return compileKeyBy(problems, `${path}.keyBy`, step.keyBy, stage);
  if (operator === 'window') return compileWindow(problems, path, step, id, stage);
  if (operator === 'pattern') return compilePatternStep(problems, path, step, id, stage);
  if (stage !== undefined && 'keyed' in stage) {
    problems.add(stage.keyPath, `must be followed by a window step, not ${operator}: keyBy groups the stream for the window after it`);
    return undefined;
  }
  if (operator === 'join') {
    const joined = compileJoin(problems, `${path}.join`, step.join, id, stage?.stream, sources);
    return joined === undefined ? undefined : { stream: joined };
  }
  if (operator === 'score') {
    const scored = compileScore(problems, `${path}.score`, step.score, id, stage?.stream);
    return scored === undefined ? undefined : { stream: scored };
  }
  if (operator === 'mask') {
    const mask = compileMask(problems, `${path}.mask`, step.mask, masks);
    if (mask === undefined || stage === undefined) return undefined;
    const stream = stage.stream;
    return problems.attempt(idPath, () => ({ stream: mask(stream, id) }));
  }
  const body = step[operator];
  const built =
    operator === 'filter'
      ? filter(problems, `${path}.filter`, body)
      : operator === 'map'
        ? map(problems, `${path}.map`, body)
        : flatMap(problems, `${path}.flatMap`, body);
  if (built === undefined || stage === undefined) return undefined;
  const stream = stage.stream;
  return problems.attempt(idPath, () => ({ stream: built(stream, id) }));
}

type Apply = (stream: DataStream<Row>, id: string) => DataStream<Row>;

function filter(problems: Problems, path: string, source: unknown): Apply | undefined {
  const expression = cel(problems, path, source);
  if (expression === undefined) return undefined;
  if (!mayBe(expression, 'bool')) {
    problems.add(path, `returns ${expression.resultType}, not bool; write a condition such as amount > 100.0`);
    return undefined;
  }
  const test = (record: Row): boolean => {
    const keep = expression.evaluate(record);
    if (typeof keep !== 'boolean')
      throw new Error(`${JSON.stringify(expression.source)} returned ${showValue(keep)}, not true or false; a filter must be a condition`);
    return keep;
  };
  return (stream, id) => stream.filter(test, { id });
}

function map(problems: Problems, path: string, body: unknown): Apply | undefined {
  if (!isObject(body)) {
    problems.add(path, 'must be an object with fields (output field → CEL expression) or expression (a CEL map)');
    return undefined;
  }
  const merge = body.merge === true;
  const set = setKeys(body, ['fields', 'expression']);
  if (set.length !== 1) {
    problems.add(path, set.length === 0 ? 'set fields (output field → CEL expression) or expression (a CEL map)' : 'set fields or expression, not both');
    return undefined;
  }
  if (set[0] === 'expression') {
    const expression = cel(problems, `${path}.expression`, body.expression);
    if (expression === undefined) return undefined;
    if (!mayBe(expression, 'map')) {
      problems.add(`${path}.expression`, `returns ${expression.resultType}, not a map; write a map such as {"id": id, "total": amount * 2}`);
      return undefined;
    }
    const compute = (record: Row): Row => {
      const value = expression.evaluate(record);
      if (!isRecord(value)) throw new Error(`${JSON.stringify(expression.source)} gave ${showValue(value)}, not a map`);
      return value;
    };
    return (stream, id) => stream.map((record) => (merge ? { ...record, ...compute(record) } : compute(record)), { id });
  }
  if (!isObject(body.fields) || Object.keys(body.fields).length === 0) {
    problems.add(`${path}.fields`, 'must map at least one output field to a CEL expression, for example { total: amount * 2 }');
    return undefined;
  }
  const fields: [string, CelExpression][] = [];
  for (const [name, source] of Object.entries(body.fields)) {
    const expression = cel(problems, `${path}.fields.${name}`, source);
    if (expression !== undefined) fields.push([name, expression]);
  }
  if (fields.length !== Object.keys(body.fields).length) return undefined;
  return (stream, id) =>
    stream.map(
      (record) => {
        const value: Row = merge ? { ...record } : {};
        for (const [name, expression] of fields) value[name] = expression.evaluate(record);
        return value;
      },
      { id },
    );
}

function flatMap(problems: Problems, path: string, source: unknown): Apply | undefined {
  const expression = cel(problems, path, source);
  if (expression === undefined) return undefined;
  if (!mayBe(expression, 'list')) {
    problems.add(path, `returns ${expression.resultType}, not a list; write a list of maps such as items.map(i, {"sku": i.sku})`);
    return undefined;
  }
  const expand = (record: Row): Row[] => {
    const value = expression.evaluate(record);
    if (!Array.isArray(value)) throw new Error(`${JSON.stringify(expression.source)} gave ${showValue(value)}, not a list`);
    return value as Row[];
  };
  return (stream, id) => stream.flatMap(expand, { id });
}

function compileKeyBy(problems: Problems, path: string, body: unknown, stage: Stage | undefined): Stage | undefined {
  if (stage !== undefined && 'keyed' in stage) {
    problems.add(stage.keyPath, 'is followed by another keyBy; keep one keyBy before the window');
    return undefined;
  }
  if (!isObject(body)) {
    problems.add(path, 'must be an object: { field: customer_id } or { expression: ..., name: ... }');
    return undefined;
  }
  const set = setKeys(body, ['field', 'expression']);
  if (set.length !== 1) {
    problems.add(path, set.length === 0 ? 'set field (a record field) or expression (CEL)' : 'set field or expression, not both');
    return undefined;
  }
  if (set[0] === 'field') {
    const field = body.field;
    if (typeof field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(field)) {
      problems.add(`${path}.field`, `${showValue(field)} is not a field name such as customer_id or payment.card_id`);
      return undefined;
    }
    if (body.name !== undefined) problems.add(`${path}.name`, 'names an expression key; a field key keeps the field name, so remove name');
    if (stage === undefined) return undefined;
    const keyed = field.includes('.') ? stage.stream.keyBy(fieldReader(field), field) : stage.stream.keyBy(field);
    return { keyed, keyPath: path };
  }
  const expression = cel(problems, `${path}.expression`, body.expression);
  const name = body.name ?? 'key';
  if (typeof name !== 'string' || name === '') {
    problems.add(`${path}.name`, `${showValue(name)} is not a field name; name the result field the key fills, for example card`);
    return undefined;
  }
  if (expression === undefined || stage === undefined) return undefined;
  return { keyed: stage.stream.keyBy((record: Row) => expression.evaluate(record), name), keyPath: path };
}

const WINDOW_TYPES = ['tumbling', 'sliding', 'session'] as const;
const WINDOW_SETTINGS: Record<(typeof WINDOW_TYPES)[number], readonly string[]> = {
  tumbling: ['size'],
  sliding: ['size', 'slide'],
  session: ['gap'],
};

function compileWindow(problems: Problems, path: string, step: Spec, id: string, stage: Stage | undefined): Stage | undefined {
  const windowPath = `${path}.window`;
  const assigner = compileAssigner(problems, windowPath, step.window);
  const allowedLateness = isObject(step.window) ? duration(problems, `${windowPath}.allowedLateness`, step.window.allowedLateness, 0) : undefined;
  const aggregates = compileAggregateSpecs(problems, `${path}.aggregate`, step.aggregate);
  if (stage !== undefined && !('keyed' in stage)) {
    problems.add(windowPath, 'needs a keyBy step before it, for example { keyBy: { field: customer_id } }');
    return undefined;
  }
  if (stage === undefined || assigner === undefined || allowedLateness === undefined || aggregates === undefined) return undefined;
  const keyed = stage.keyed;
  return problems.attempt(`${path}.aggregate`, () => ({ stream: keyed.window(assigner, { id, allowedLateness }).aggregate(aggregates) }));
}

/** A pattern matches per key: like a window, it needs the keyBy before it. */
function compilePatternStep(problems: Problems, path: string, step: Spec, id: string, stage: Stage | undefined): Stage | undefined {
  const keyed = stage !== undefined && 'keyed' in stage ? stage.keyed : undefined;
  const stream = compilePattern(problems, `${path}.pattern`, step.pattern, id, keyed);
  if (stage !== undefined && !('keyed' in stage)) {
    problems.add(`${path}.pattern`, "needs a keyBy step before it, for example { keyBy: { field: ip } }: a pattern matches each key's records");
    return undefined;
  }
  return stream === undefined ? undefined : { stream };
}

function compileAssigner(problems: Problems, path: string, window: unknown): WindowAssigner | undefined {
  if (!isObject(window)) {
    problems.add(path, 'must be an object such as { type: tumbling, size: 5m }');
    return undefined;
  }
  const type = window.type as (typeof WINDOW_TYPES)[number];
  if (!WINDOW_TYPES.includes(type)) {
    problems.add(`${path}.type`, `${showValue(window.type)} is not a window type; use tumbling, sliding or session`);
    return undefined;
  }
  const wanted = WINDOW_SETTINGS[type];
  for (const setting of ['size', 'slide', 'gap']) {
    const given = window[setting] !== undefined;
    if (given && !wanted.includes(setting))
      problems.add(`${path}.${setting}`, `is not a setting of ${type} windows, which take ${wanted.join(' and ')}; remove it`);
    if (!given && wanted.includes(setting))
      problems.add(
        `${path}.${setting}`,
        `is required for ${type} windows: a duration such as ${setting === 'gap' ? '30m' : setting === 'slide' ? '1m' : '5m'}`,
      );
  }
  const ms = (setting: string): number | undefined =>
    window[setting] === undefined ? undefined : positiveDuration(problems, `${path}.${setting}`, window[setting]);
  if (type === 'tumbling') {
    const size = ms('size');
    return size === undefined ? undefined : tumbling(size);
  }
  if (type === 'session') {
    const gap = ms('gap');
    return gap === undefined ? undefined : session(gap);
  }
  const size = ms('size');
  const slide = ms('slide');
  if (size === undefined || slide === undefined) return undefined;
  if (slide > size) {
    problems.add(`${path}.slide`, `${showValue(window.slide)} is longer than size ${showValue(window.size)}; a sliding window's slide is at most its size`);
    return undefined;
  }
  return sliding(size, slide);
}

function compileAggregateSpecs(problems: Problems, path: string, list: unknown): AggregateSpec<Row>[] | undefined {
  if (!Array.isArray(list) || list.length === 0) {
    problems.add(path, 'a window step needs aggregates, for example [{ name: txn_count, fn: count }]');
    return undefined;
  }
  const specs: AggregateSpec<Row>[] = [];
  let failed = false;
  list.forEach((item: unknown, index) => {
    const itemPath = `${path}[${index}]`;
    const spec = compileAggregate(problems, itemPath, item);
    // Checked one by one, so each problem names its aggregate's position.
    if (spec === undefined || problems.attempt(itemPath, () => compileAggregates([spec])) === undefined) failed = true;
    else specs.push(spec);
  });
  if (failed) return undefined;
  return problems.attempt(path, () => (compileAggregates(specs), specs));
}

function compileAggregate(problems: Problems, path: string, item: unknown): AggregateSpec<Row> | undefined {
  if (!isObject(item)) {
    problems.add(path, 'must be an object such as { name: txn_sum, fn: sum, field: amount }');
    return undefined;
  }
  const spec = { name: item.name, fn: item.fn } as AggregateSpec<Row>;
  if (item.q !== undefined) spec.q = item.q as number;
  if (item.field !== undefined && item.expression !== undefined) {
    problems.add(path, 'set field or expression, not both');
    return undefined;
  }
  if (typeof item.field === 'string' && item.field.includes('.')) spec.value = fieldReader(item.field);
  else if (item.field !== undefined) spec.field = item.field as string;
  if (item.expression !== undefined) {
    const expression = cel(problems, `${path}.expression`, item.expression);
    if (expression === undefined) return undefined;
    spec.value = (record) => expression.evaluate(record);
  }
  return spec;
}
