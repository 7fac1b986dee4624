// spec.pipeline[].pattern → the keyed CEP pattern operator: stages with CEL conditions, within, and an optional select, each checked with its field path.
import type { DataStream, KeyedStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { MATCH_FIELDS, type PatternStageSpec } from '../pattern/operator.js';
import { type CelExpression, compileCel } from './cel.js';
import type { Problems } from './problems.js';
import { isObject, positiveDuration } from './values.js';

type Row = Record<string, unknown>;

/** A stage's name is a CEL variable in select: an identifier. */
const STAGE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONTIGUITIES = ['next', 'followedBy'] as const;

function celAt(problems: Problems, path: string, source: unknown): CelExpression | undefined {
  if (typeof source !== 'string') {
    problems.add(path, `${showValue(source)} is not a CEL expression; write one as a string`);
    return undefined;
  }
  return problems.attempt(path, () => compileCel(source));
}

function compileStage(problems: Problems, path: string, step: unknown, index: number, names: Set<string>): PatternStageSpec | undefined {
  if (!isObject(step)) {
    problems.add(path, 'must be an object such as { name: failures, condition: result == "failed", times: 3, orMore: true }');
    return undefined;
  }
  let failed = false;
  const fail = (at: string, message: string): void => {
    problems.add(`${path}.${at}`, message);
    failed = true;
  };
  const { name, times = 1, orMore = false, contiguity = 'followedBy' } = step;
  if (typeof name !== 'string' || !STAGE_NAME.test(name))
    fail('name', `${showValue(name)} is not a stage name; use an identifier such as failures, which select expressions see as a list`);
  else if (names.has(name)) fail('name', `${name} names an earlier stage too; give each stage its own name`);
  else names.add(name);
  const condition = celAt(problems, `${path}.condition`, step.condition);
  if (condition === undefined) failed = true;
  else if (!['dyn', 'bool'].includes(condition.resultType))
    fail('condition', `returns ${condition.resultType}, not bool; write a condition such as result == "failed"`);
  if (typeof times !== 'number' || !Number.isSafeInteger(times) || times < 1)
    fail('times', `${showValue(times)} is not a whole number of records of at least 1`);
  if (typeof orMore !== 'boolean') fail('orMore', `${showValue(orMore)} is not true or false`);
  if (!CONTIGUITIES.includes(contiguity as (typeof CONTIGUITIES)[number])) fail('contiguity', `${showValue(contiguity)} is not next or followedBy`);
  if (failed || condition === undefined) return undefined;
  return {
    name: name as string,
    times: times as number,
    orMore: orMore as boolean,
    contiguity: index === 0 ? 'followedBy' : (contiguity as PatternStageSpec['contiguity']),
    condition: (record) => condition.evaluate(record),
  };
}

function compileSelect(problems: Problems, path: string, select: unknown): ((match: Record<string, Row[]>) => Row) | undefined {
  if (!isObject(select) || Object.keys(select).length === 0) {
    problems.add(path, 'must map at least one output field to a CEL expression over the match, for example { ip: success[0].ip, failures: size(failures) }');
    return undefined;
  }
  const fields: [string, CelExpression][] = [];
  for (const [name, source] of Object.entries(select)) {
    const expression = celAt(problems, `${path}.${name}`, source);
    if (expression !== undefined) fields.push([name, expression]);
  }
  if (fields.length !== Object.keys(select).length) return undefined;
  return (match) => Object.fromEntries(fields.map(([name, expression]) => [name, expression.evaluate(match)]));
}

/** The pattern step after a keyBy; undefined (with the problems recorded) when any part of it is wrong. */
export function compilePattern(problems: Problems, path: string, body: unknown, id: string, keyed: KeyedStream<Row> | undefined): DataStream<Row> | undefined {
  if (!isObject(body)) {
    problems.add(path, 'must be an object such as { steps: [...], within: 10m }');
    return undefined;
  }
  const steps = body.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    problems.add(`${path}.steps`, 'must list at least one stage, for example [{ name: failures, condition: result == "failed", times: 3, orMore: true }]');
  }
  const names = new Set<string>();
  const stages = (Array.isArray(steps) ? steps : []).map((step: unknown, index) => compileStage(problems, `${path}.steps[${index}]`, step, index, names));
  const within = body.within === undefined ? undefined : positiveDuration(problems, `${path}.within`, body.within);
  if (body.within === undefined)
    problems.add(`${path}.within`, 'is required: the longest time a match may span, from its first record to its last, such as 10m');
  const select = body.select === undefined ? undefined : compileSelect(problems, `${path}.select`, body.select);
  if (body.select !== undefined && select === undefined) return undefined;
  if (stages.length === 0 || stages.some((stage) => stage === undefined) || within === undefined || keyed === undefined) return undefined;
  const compiled = stages as PatternStageSpec[];
  if (select === undefined) {
    const taken = new Set<string>(MATCH_FIELDS);
    for (const stage of compiled) {
      if (taken.has(`${stage.name}_count`)) {
        problems.add(`${path}.steps`, `stage ${stage.name}'s count would overwrite the result field ${stage.name}_count; rename the stage or set select`);
        return undefined;
      }
      taken.add(`${stage.name}_count`);
    }
  }
  return problems.attempt(path, () => keyed.pattern({ stages: compiled, within, ...(select === undefined ? {} : { select }) }, { id }));
}
