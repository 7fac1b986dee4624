// spec.sinks, spec.lateOutput and spec.deadLetter: compiled and checked; sinks the engine has not got yet are refused by name.
import { parseKeyTemplate, type KeyTemplate } from '../connectors/key-template.js';
import { showValue } from '../error-message.js';
import { compileCel, type CelExpression } from './cel.js';
import { compileFormat } from './source.js';
import type { JobSink, SideOutput } from './job.js';
import type { Problems } from './problems.js';
import { isObject, positiveDuration, setKeys } from './values.js';

const KINDS = ['kafka', 'redis', 'postgres', 's3', 'file', 'stdout'] as const;

export function compileSinks(problems: Problems, list: unknown): JobSink[] {
  if (!Array.isArray(list) || list.length === 0) {
    problems.add('spec.sinks', 'name at least one sink, for example { name: out, stdout: {} }');
    return [];
  }
  const sinks: JobSink[] = [];
  for (const [index, item] of (list as unknown[]).entries()) {
    if (!isObject(item)) {
      problems.add(`spec.sinks[${index}]`, 'must be an object with a name and one sink');
      continue;
    }
    const sink = compileSink(problems, `spec.sinks[${index}]`, item);
    if (sink !== undefined) sinks.push(sink);
  }
  return sinks;
}

function compileSink(problems: Problems, path: string, spec: Record<string, unknown>): JobSink | undefined {
  const name = typeof spec.name === 'string' ? spec.name : `sink-${path}`;
  const kinds = setKeys(spec, KINDS);
  if (kinds.length !== 1) {
    problems.add(path, `set exactly one of ${KINDS.join(', ')}${kinds.length > 1 ? `, not ${kinds.join(' and ')}` : ''}`);
    return undefined;
  }
  const kind = kinds[0]! as (typeof KINDS)[number];
  const body = spec[kind];
  const at = `${path}.${kind}`;
  if (!isObject(body)) {
    problems.add(at, `must be an object with the ${kind} sink's settings`);
    return undefined;
  }
  switch (kind) {
    case 'postgres':
      return compilePostgres(problems, name, at, body);
    case 's3':
      return compileS3(problems, name, at, body);
    case 'kafka': {
      if (typeof body.topic !== 'string' || body.topic === '') problems.add(`${at}.topic`, 'name the Kafka topic to write, for example fraud-features');
      const key = template(problems, `${at}.key`, body.key);
      const format = compileFormat(problems, at, body, String(body.topic));
      if (typeof body.topic !== 'string' || key === null || format === undefined) return undefined;
      const sink: JobSink = key === undefined ? { name, kind, topic: body.topic } : { name, kind, topic: body.topic, key };
      if (format.name !== 'json') sink.format = format;
      return sink;
    }
    case 'redis': {
      const key = template(problems, `${at}.key`, body.key);
      if (key === undefined) problems.add(`${at}.key`, 'is required: a key template such as fraud_features:{customer_id}:txn_count_5m');
      const value = body.value === undefined ? undefined : problems.attempt(`${at}.value`, () => compileCel(body.value as string));
      const dataType = body.dataType ?? 'string';
      if (dataType !== 'string' && dataType !== 'hash') problems.add(`${at}.dataType`, `${showValue(dataType)} is not a Redis data type; use string or hash`);
      if (dataType === 'hash' && body.value !== undefined)
        problems.add(`${at}.value`, 'a hash stores every field of the result; remove value, or use dataType string');
      const ttl = body.ttl === undefined ? undefined : positiveDuration(problems, `${at}.ttl`, body.ttl);
      if (key === undefined || key === null || (body.value !== undefined && value === undefined) || (body.ttl !== undefined && ttl === undefined))
        return undefined;
      const sink: JobSink = { name, kind, key, dataType: dataType === 'hash' ? 'hash' : 'string' };
      if (value !== undefined) sink.value = value;
      if (ttl !== undefined) sink.ttl = ttl;
      return sink;
    }
    case 'file':
      if (typeof body.path !== 'string' || body.path === '') {
        problems.add(`${at}.path`, 'name the file to append JSON lines to');
        return undefined;
      }
      return { name, kind, path: body.path };
    case 'stdout': {
      const format = body.format ?? 'json';
      if (format !== 'json' && format !== 'pretty') {
        problems.add(`${at}.format`, `${showValue(format)} is not a stdout format; use json or pretty`);
        return undefined;
      }
      return { name, kind, format };
    }
  }
}

/** A table name or column as the CRD allows it: a letter or _, then letters, digits and _ (PostgreSQL's unquoted identifiers, case kept). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function compilePostgres(problems: Problems, name: string, at: string, body: Record<string, unknown>): JobSink | undefined {
  const count = problems.list.length;
  const table = body.table;
  if (typeof table !== 'string' || !table.split('.').every((part) => IDENTIFIER.test(part)) || table.split('.').length > 2) {
    problems.add(
      `${at}.table`,
      `${showValue(table)} is not a table name; name the table to upsert into, for example customer_velocity or features.customer_velocity`,
    );
  }
  const keyColumns = body.keyColumns;
  if (!Array.isArray(keyColumns) || keyColumns.length === 0) {
    problems.add(`${at}.keyColumns`, "list the columns of the table's primary key that a result's row is found by, for example [customer_id, window_start]");
  } else {
    for (const [i, column] of keyColumns.entries())
      if (typeof column !== 'string' || !IDENTIFIER.test(column))
        problems.add(`${at}.keyColumns[${i}]`, `${showValue(column)} is not a column name such as customer_id`);
    if (new Set(keyColumns).size !== keyColumns.length) problems.add(`${at}.keyColumns`, 'names a column twice; list each key column once');
  }
  let columns: { name: string; value: CelExpression }[] | undefined;
  if (body.columns !== undefined) {
    if (!isObject(body.columns))
      problems.add(`${at}.columns`, 'must map each column to a CEL expression over the result, for example { txn_count: txn_count }');
    else {
      columns = [];
      for (const [column, source] of Object.entries(body.columns)) {
        if (!IDENTIFIER.test(column)) problems.add(`${at}.columns`, `${showValue(column)} is not a column name such as customer_id`);
        const value = typeof source === 'string' ? problems.attempt(`${at}.columns.${column}`, () => compileCel(source)) : undefined;
        if (typeof source !== 'string') problems.add(`${at}.columns.${column}`, `${showValue(source)} is not a CEL expression such as customer_id`);
        if (value !== undefined) columns.push({ name: column, value });
      }
      if (Array.isArray(keyColumns)) {
        for (const key of keyColumns)
          if (typeof key === 'string' && !Object.hasOwn(body.columns, key))
            problems.add(
              `${at}.columns`,
              `has no ${key}, a key column; add ${key}: <expression>, or leave columns out to write the result's fields as they are`,
            );
      }
    }
  }
  if (problems.list.length > count) return undefined;
  return { name, kind: 'postgres', table: table as string, keyColumns: keyColumns as string[], ...(columns === undefined ? {} : { columns }) };
}

/** The CRD's bucket names: S3's rules, lower case, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function compileS3(problems: Problems, name: string, at: string, body: Record<string, unknown>): JobSink | undefined {
  const count = problems.list.length;
  const { bucket, prefix = '', format = 'parquet' } = body;
  if (typeof bucket !== 'string' || !BUCKET.test(bucket))
    problems.add(`${at}.bucket`, `${showValue(bucket)} is not a bucket name; name the bucket, for example fraud-lake`);
  if (typeof prefix !== 'string') problems.add(`${at}.prefix`, `${showValue(prefix)} is not a key prefix such as features/velocity/`);
  if (format !== 'parquet' && format !== 'jsonl') problems.add(`${at}.format`, `${showValue(format)} is not an S3 sink format; use parquet or jsonl`);
  const rollInterval = positiveDuration(problems, `${at}.rollInterval`, body.rollInterval ?? '1m');
  if (problems.list.length > count || rollInterval === undefined) return undefined;
  // The prefix names a folder: results of `features/velocity` land under features/velocity/dt=…, not features/velocitydt=….
  const folder = prefix === '' || (prefix as string).endsWith('/') ? (prefix as string) : `${prefix as string}/`;
  return { name, kind: 's3', bucket: bucket as string, prefix: folder, format: format as 'parquet' | 'jsonl', rollInterval };
}

/** A key template, parsed once with CEL for placeholders that are not field names; undefined when absent, null after a problem. */
function template(problems: Problems, path: string, value: unknown): KeyTemplate | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    problems.add(path, `${showValue(value)} is not a key template such as {customer_id}`);
    return null;
  }
  return problems.attempt(path, () => parseKeyTemplate(value, { expression: compileCel })) ?? null;
}

export function compileSideOutput(problems: Problems, path: string, spec: unknown): SideOutput | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isObject(spec)) {
    problems.add(path, 'must be an object with topic or file');
    return undefined;
  }
  const set = setKeys(spec, ['topic', 'file']);
  if (set.length !== 1) {
    problems.add(path, set.length === 0 ? 'set topic (a Kafka topic) or file (a JSON-lines file)' : 'set topic or file, not both');
    return undefined;
  }
  return set[0] === 'topic' ? { topic: String(spec.topic) } : { file: String(spec.file) };
}
