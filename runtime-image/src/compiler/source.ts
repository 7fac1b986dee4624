// The job's source (spec.sources[0]) and its event time, compiled and checked.
import { showValue } from '../error-message.js';
import { type GeneratorOptions, type WorkloadName, resolveOptions } from '../connectors/generator/options.js';
import type { EventTime, EventTimeFormat, JobSource } from './job.js';
import type { Problems } from './problems.js';
import { duration, fieldReader, isObject, positiveDuration, setKeys, type Spec } from './values.js';

const KINDS = ['kafka', 'generator', 'file'] as const;
const FORMATS: readonly EventTimeFormat[] = ['iso8601', 'epoch-millis', 'epoch-seconds'];

export function compileSource(problems: Problems, path: string, spec: Spec): JobSource | undefined {
  const name = typeof spec.name === 'string' ? spec.name : 'source';
  const format = spec.format ?? 'json';
  if (format === 'avro' || format === 'json-schema') {
    problems.notYet(`${path}.format`, `format ${format}`, 'use format json for now');
  } else if (format !== 'json') {
    problems.add(`${path}.format`, `${showValue(format)} is not a format; use json`);
  }
  const kinds = setKeys(spec, KINDS);
  if (kinds.length !== 1) {
    problems.add(path, `set exactly one of kafka, generator or file${kinds.length > 1 ? `, not ${kinds.join(' and ')}` : ''}`);
    return undefined;
  }
  const kind = kinds[0]! as (typeof KINDS)[number];
  const body = spec[kind];
  if (!isObject(body)) {
    problems.add(`${path}.${kind}`, `must be an object with the ${kind} source's settings`);
    return undefined;
  }
  switch (kind) {
    case 'kafka':
      if (typeof body.topic !== 'string' || body.topic === '') {
        problems.add(`${path}.kafka.topic`, 'name the Kafka topic to read, for example transactions');
        return undefined;
      }
      return { name, kind, topic: body.topic, startingOffsets: body.startingOffsets === 'latest' ? 'latest' : 'earliest' };
    case 'file':
      if (typeof body.path !== 'string' || body.path === '') {
        problems.add(`${path}.file.path`, 'name the JSON-lines file to read');
        return undefined;
      }
      return { name, kind, path: body.path };
    case 'generator':
      return compileGenerator(problems, `${path}.generator`, name, body);
  }
}

function compileGenerator(problems: Problems, path: string, name: string, body: Spec): JobSource | undefined {
  const disorder = duration(problems, `${path}.disorder`, body.disorder);
  const lateBy = duration(problems, `${path}.lateBy`, body.lateBy);
  const options: GeneratorOptions = { workload: body.workload as WorkloadName };
  const copy = ['seed', 'rate', 'count', 'keys', 'partitions', 'keyField', 'lateFraction', 'start'] as const;
  for (const key of copy) {
    if (body[key] !== undefined) (options as unknown as Spec)[key] = body[key];
  }
  if (disorder !== undefined) options.disorder = disorder;
  if (lateBy !== undefined) options.lateBy = lateBy;
  if (problems.attempt(path, () => resolveOptions(options)) === undefined) return undefined;
  return { name, kind: 'generator', options };
}

export function compileEventTime(problems: Problems, path: string, spec: unknown): EventTime | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isObject(spec)) {
    problems.add(path, 'must be an object such as { field: timestamp, maxOutOfOrderness: 30s }');
    return undefined;
  }
  const { field } = spec;
  if (typeof field !== 'string' || field === '') {
    problems.add(`${path}.field`, 'name the record field that holds the event time, for example timestamp');
    return undefined;
  }
  const format = (spec.format ?? 'iso8601') as EventTimeFormat;
  if (!FORMATS.includes(format)) {
    problems.add(`${path}.format`, `${showValue(spec.format)} is not an event-time format; use one of ${FORMATS.join(', ')}`);
    return undefined;
  }
  const maxOutOfOrderness = duration(problems, `${path}.maxOutOfOrderness`, spec.maxOutOfOrderness, 0);
  const idleTimeout = spec.idleTimeout === undefined ? undefined : positiveDuration(problems, `${path}.idleTimeout`, spec.idleTimeout);
  if (maxOutOfOrderness === undefined) return undefined;
  const eventTime: EventTime = { field, format, maxOutOfOrderness, extract: extractor(field, format) };
  if (idleTimeout !== undefined) eventTime.idleTimeout = idleTimeout;
  return eventTime;
}

/** Reads the event time in epoch ms; what it throws is the record's dead-letter reason. */
function extractor(field: string, format: EventTimeFormat): (record: Record<string, unknown>) => number {
  const read = fieldReader(field);
  const missing = (value: unknown, expected: string): Error =>
    new Error(`the event time field ${field} is ${value === undefined ? 'missing' : showValue(value)}, not ${expected}`);
  switch (format) {
    case 'iso8601':
      return (record) => {
        const value = read(record);
        const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(ms)) throw missing(value, 'an ISO-8601 time such as 2025-12-05T10:23:15Z');
        return ms;
      };
    case 'epoch-millis':
      return (record) => {
        const value = read(record);
        if (typeof value !== 'number' || !Number.isFinite(value)) throw missing(value, 'a number of epoch milliseconds');
        return Math.floor(value);
      };
    case 'epoch-seconds':
      return (record) => {
        const value = read(record);
        if (typeof value !== 'number' || !Number.isFinite(value)) throw missing(value, 'a number of epoch seconds');
        return Math.floor(value * 1000);
      };
  }
}
