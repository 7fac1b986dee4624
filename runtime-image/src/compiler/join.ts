// A pipeline's join step → a stream–table join over another source of the job (docs/engine.md, "Joins").
import type { DataStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { type CelExpression, compileCel } from './cel.js';
import { parseDuration } from '../time/duration.js';
import type { EventTime, JobSource, JobTable } from './job.js';
import type { Problems } from './problems.js';
import { isObject, type Spec } from './values.js';

type Row = Record<string, unknown>;

/** The job's sources other than the stream, by name, and the tables the join steps read from them (filled as they compile). */
export interface JoinSources {
  readonly others: ReadonlyMap<string, JobSource>;
  /** Their event time, where set: an interval join's other stream needs one. */
  readonly eventTimes: ReadonlyMap<string, EventTime>;
  readonly tables: JobTable[];
}

export const NO_JOIN_SOURCES: JoinSources = { others: new Map(), eventTimes: new Map(), tables: [] };

const MODES = ['inner', 'left'] as const;

function celKey(problems: Problems, path: string, source: unknown): CelExpression | undefined {
  if (typeof source !== 'string' || source === '') {
    problems.add(path, `${showValue(source)} is not a CEL expression; write one as a string, for example customer_id`);
    return undefined;
  }
  return problems.attempt(path, () => compileCel(source));
}

/** The join step `body` after `stream`; undefined after recording its problems. */
export function compileJoin(
  problems: Problems,
  path: string,
  body: unknown,
  id: string,
  stream: DataStream<Row> | undefined,
  sources: JoinSources,
): DataStream<Row> | undefined {
  if (!isObject(body)) {
    problems.add(path, 'must be an object such as { with: customers, type: table, leftKey: customer_id }');
    return undefined;
  }
  const table = tableSource(problems, path, body.with, sources);
  if (body.type === 'interval') return compileIntervalJoin(problems, path, body, id, stream, table, sources);
  if (body.type !== 'table') {
    problems.add(`${path}.type`, `${showValue(body.type)} is not a join type; use table or interval`);
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
  if (typeof into !== 'string' || into === '')
    problems.add(`${path}.into`, `${showValue(body.into)} is not a field name; name the output field that holds the table row`);
  if (body.broadcast !== undefined && typeof body.broadcast !== 'boolean')
    problems.add(`${path}.broadcast`, `${showValue(body.broadcast)} is not true or false`);
  if (
    stream === undefined ||
    table === undefined ||
    leftKey === undefined ||
    (body.rightKey !== undefined && rightKey === undefined) ||
    problems.list.length > 0
  )
    return undefined;
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

/** A duration that may be negative: -5m is five minutes before. */
function signedDuration(problems: Problems, path: string, value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.add(path, `${showValue(value)} is not a duration such as -5m or 5m`);
    return undefined;
  }
  const negative = value.startsWith('-');
  const ms = problems.attempt(path, () => parseDuration(negative ? value.slice(1) : value));
  return ms === undefined ? undefined : negative ? -ms : ms;
}

/** Flink's interval join: the other stream's records b with b.key = key and ts + lower ≤ b.ts ≤ ts + upper; inner only, as Flink's. */
function compileIntervalJoin(
  problems: Problems,
  path: string,
  body: Spec,
  id: string,
  stream: DataStream<Row> | undefined,
  other: JobSource | undefined,
  sources: JoinSources,
): DataStream<Row> | undefined {
  const leftKey = celKey(problems, `${path}.leftKey`, body.leftKey);
  if (body.rightKey === undefined)
    problems.add(`${path}.rightKey`, "is required for an interval join: the other stream's key, a CEL expression such as customer_id");
  const rightKey = body.rightKey === undefined ? undefined : celKey(problems, `${path}.rightKey`, body.rightKey);
  const lower = signedDuration(problems, `${path}.lower`, body.lower);
  const upper = signedDuration(problems, `${path}.upper`, body.upper);
  if (lower !== undefined && upper !== undefined && lower > upper)
    problems.add(`${path}.upper`, `${showValue(body.upper)} is earlier than lower ${showValue(body.lower)}; swap them`);
  if (body.mode !== undefined && body.mode !== 'inner')
    problems.add(`${path}.mode`, `${showValue(body.mode)}: an interval join is inner (as Flink's); remove mode`);
  if (body.broadcast === true) problems.add(`${path}.broadcast`, 'applies only to table joins; remove it');
  const into = body.into ?? body.with;
  if (typeof into !== 'string' || into === '')
    problems.add(`${path}.into`, `${showValue(body.into)} is not a field name; name the output field that holds the other record`);
  const eventTime = other === undefined ? undefined : sources.eventTimes.get(other.name);
  if (other !== undefined && eventTime === undefined)
    problems.add(
      `${path}.with`,
      `source ${other.name} has no eventTime; an interval join matches event times, so give it one, for example { field: timestamp }`,
    );
  if (
    stream === undefined ||
    other === undefined ||
    leftKey === undefined ||
    rightKey === undefined ||
    lower === undefined ||
    upper === undefined ||
    eventTime === undefined ||
    problems.list.length > 0
  )
    return undefined;
  sources.tables.push({ source: other, joinId: id, broadcast: false, interval: true });
  return problems.attempt(path, () =>
    stream.joinInterval(
      {
        other: other.name,
        leftKey: (record) => leftKey.evaluate(record),
        rightKey: (record) => rightKey.evaluate(record),
        lower,
        upper,
        into: into as string,
        rightTime: (record) => eventTime.extract(record),
        rightMaxOutOfOrderness: eventTime.maxOutOfOrderness,
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
    problems.add(
      `${path}.with`,
      `source ${source.name} is joined by an earlier step already; join each table once, and keep its row in the field the first join names`,
    );
    return undefined;
  }
  return source;
}
