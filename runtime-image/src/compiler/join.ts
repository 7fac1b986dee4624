// A pipeline's join step → a stream–table join over another source of the job (docs/engine.md, "Joins").
import type { DataStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { type CelExpression, compileCel } from './cel.js';
import type { JobSource, JobTable } from './job.js';
import type { Problems } from './problems.js';
import { isObject } from './values.js';

type Row = Record<string, unknown>;

/** The job's sources other than the stream, by name, and the tables the join steps read from them (filled as they compile). */
export interface JoinSources {
  readonly others: ReadonlyMap<string, JobSource>;
  readonly tables: JobTable[];
}

export const NO_JOIN_SOURCES: JoinSources = { others: new Map(), tables: [] };

const MODES = ['inner', 'left'] as const;

function celKey(problems: Problems, path: string, source: unknown): CelExpression | undefined {
  if (typeof source !== 'string' || source === '') {
    problems.add(path, `${showValue(source)} is not a CEL expression; write one as a string, for example customer_id`);
    return undefined;
  }
  return problems.attempt(path, () => compileCel(source));
}

/** The join step `body` after `stream`; undefined after recording its problems. */
export function compileJoin(problems: Problems, path: string, body: unknown, id: string, stream: DataStream<Row> | undefined, sources: JoinSources): DataStream<Row> | undefined {
  if (!isObject(body)) {
    problems.add(path, 'must be an object such as { with: customers, type: table, leftKey: customer_id }');
    return undefined;
  }
  const table = tableSource(problems, path, body.with, sources);
  if (body.type === 'interval') {
    problems.notYet(`${path}.type`, 'an interval join (stream–stream)', 'use type: table, a join with the latest row of a table');
    return undefined;
  }
  if (body.type !== 'table') {
    problems.add(`${path}.type`, `${showValue(body.type)} is not a join type; use table`);
    return undefined;
  }
  for (const setting of ['lower', 'upper'] as const) {
    if (body[setting] !== undefined) problems.add(`${path}.${setting}`, 'applies only to interval joins; remove it');
  }
  const leftKey = celKey(problems, `${path}.leftKey`, body.leftKey);
  const rightKey = body.rightKey === undefined ? undefined : celKey(problems, `${path}.rightKey`, body.rightKey);
  const mode = body.mode ?? 'inner';
  if (!MODES.includes(mode as (typeof MODES)[number])) problems.add(`${path}.mode`, `${showValue(body.mode)} is not a join mode; use inner or left`);
  const into = body.into ?? body.with;
  if (typeof into !== 'string' || into === '') problems.add(`${path}.into`, `${showValue(body.into)} is not a field name; name the output field that holds the table row`);
  if (body.broadcast !== undefined && typeof body.broadcast !== 'boolean') problems.add(`${path}.broadcast`, `${showValue(body.broadcast)} is not true or false`);
  if (stream === undefined || table === undefined || leftKey === undefined || (body.rightKey !== undefined && rightKey === undefined) || problems.list.length > 0) return undefined;
  const broadcast = body.broadcast === true;
  sources.tables.push({ source: table, joinId: id, broadcast });
  return problems.attempt(path, () =>
    stream.joinTable(
      {
        table: table.name,
        leftKey: (record) => leftKey.evaluate(record),
        ...(rightKey === undefined ? {} : { rightKey: (row: Row) => rightKey.evaluate(row) }),
        mode: mode as (typeof MODES)[number],
        into: into as string,
        broadcast,
      },
      { id },
    ),
  );
}

function tableSource(problems: Problems, path: string, name: unknown, sources: JoinSources): JobSource | undefined {
  const names = [...sources.others.keys()];
  const source = typeof name === 'string' ? sources.others.get(name) : undefined;
  if (source === undefined) {
    const known = names.length === 0 ? 'the job has no other source: add the table to spec.sources' : `use one of ${names.join(', ')}`;
    problems.add(`${path}.with`, `${showValue(name)} is not one of the job's other sources (spec.sources after the first); ${known}`);
    return undefined;
  }
  if (source.kind === 'generator') {
    problems.add(`${path}.with`, `source ${source.name} is a generator; a table reads a Kafka topic (compacted, keyed by the join key) or a JSON-lines file`);
    return undefined;
  }
  if (sources.tables.some((table) => table.source.name === source.name)) {
    problems.add(`${path}.with`, `source ${source.name} is joined by an earlier step already; join each table once, and keep its row in the field the first join names`);
    return undefined;
  }
  return source;
}
