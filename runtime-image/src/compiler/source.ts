// The job's source (spec.sources[0]) and its event time, compiled and checked.
import { messageOf, showValue } from '../error-message.js';
import { formatDuration } from '../time/duration.js';
import { DATE_RANGE_MS, formatIsoTime, parseIsoDateTime } from '../time/iso8601.js';
import type { Clock } from '../time/watermark.js';
import { type GeneratorOptions, type WorkloadName, resolveOptions } from '../connectors/generator/options.js';
import type { FormatName, RecordFormat } from '../serde/serde.js';
import type { EventTime, EventTimeFormat, JobSink, JobSource } from './job.js';
import type { Problems } from './problems.js';
import { duration, fieldReader, isObject, positiveDuration, setKeys, type Spec } from './values.js';

const KINDS = ['kafka', 'generator', 'file'] as const;
const FORMATS: readonly EventTimeFormat[] = ['iso8601', 'epoch-millis', 'epoch-seconds'];

export function compileSource(problems: Problems, path: string, spec: Spec): JobSource | undefined {
  const name = typeof spec.name === 'string' ? spec.name : 'source';
  const kinds = setKeys(spec, KINDS);
  if (kinds.length !== 1) {
    problems.add(path, `set exactly one of kafka, generator or file${kinds.length > 1 ? `, not ${kinds.join(' and ')}` : ''}`);
    return undefined;
  }
  const kind = kinds[0]! as (typeof KINDS)[number];
  const body = spec[kind];
  if (kind !== 'kafka' && spec.format !== undefined && spec.format !== 'json') {
    problems.add(`${path}.format`, `a ${kind} source reads JSON; ${showValue(spec.format)} is read from Kafka only: remove format, or read a Kafka topic`);
  }
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
      return withFormat(kafkaSource(problems, `${path}.kafka`, name, body, body.topic), compileFormat(problems, path, spec, body.topic));
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

function kafkaSource(problems: Problems, path: string, name: string, body: Spec, topic: string): JobSource {
  const source: JobSource = { name, kind: 'kafka', topic, startingOffsets: body.startingOffsets === 'latest' ? 'latest' : 'earliest' };
  if (body.keyedBy === undefined) return source;
  if (typeof body.keyedBy !== 'string' || body.keyedBy.trim() === '') {
    problems.add(
      `${path}.keyedBy`,
      `${showValue(body.keyedBy)} is not a key; write the field (customer_id) or CEL expression the topic's producers key it by, as the keyBy step writes it`,
    );
  } else source.keyedBy = body.keyedBy;
  return source;
}

/** A Kafka source with its format; plain JSON, the default, is left unsaid. */
function withFormat(source: JobSource, format: RecordFormat | undefined): JobSource {
  if (source.kind === 'kafka' && format !== undefined && format.name !== 'json') source.format = format;
  return source;
}

const RECORD_FORMATS: readonly FormatName[] = ['json', 'json-schema', 'avro'];

/**
 * `spec.format` and `spec.schema` (a source, or a Kafka sink's settings) as a RecordFormat; undefined after a problem.
 * Without schema.subject the subject is `<topic>-value`, the registry's default TopicNameStrategy.
 */
export function compileFormat(problems: Problems, path: string, spec: Spec, topic: string): RecordFormat | undefined {
  const name = spec.format ?? 'json';
  if (!RECORD_FORMATS.includes(name as FormatName)) {
    problems.add(`${path}.format`, `${showValue(name)} is not a format; use one of ${RECORD_FORMATS.join(', ')}`);
    return undefined;
  }
  if (name === 'json') return { name };
  const schema = spec.schema ?? {};
  if (!isObject(schema)) {
    problems.add(`${path}.schema`, `must be an object such as { subject: ${topic}-value }`);
    return undefined;
  }
  const format: RecordFormat = { name: name as 'avro' | 'json-schema', subject: `${topic}-value` };
  if (schema.subject !== undefined) {
    if (typeof schema.subject !== 'string' || schema.subject === '')
      problems.add(`${path}.schema.subject`, `${showValue(schema.subject)} is not a subject; name the registry subject, for example ${topic}-value`);
    else format.subject = schema.subject;
  }
  if (schema.version !== undefined) {
    if (!Number.isSafeInteger(schema.version) || (schema.version as number) < 1)
      problems.add(`${path}.schema.version`, `${showValue(schema.version)} is not a version; use a version number from 1, or remove it for the latest`);
    else format.version = schema.version as number;
  }
  if (schema.registryUrl !== undefined) {
    if (typeof schema.registryUrl !== 'string' || !/^https?:\/\/\S+$/.test(schema.registryUrl))
      problems.add(`${path}.schema.registryUrl`, `${showValue(schema.registryUrl)} is not a registry URL such as http://sluice-registry:8081`);
    else format.registryUrl = schema.registryUrl;
  }
  return format;
}

/**
 * The job's formats as a whole: a joined source (a table) is read as JSON, so another format there is refused by name;
 * spec.connections.schemaRegistry.url is the registry of every format whose schema names no registryUrl.
 */
export function connectSchemaRegistry(
  problems: Problems,
  job: { source: JobSource; tables: { source: JobSource }[]; sinks: JobSink[] },
  connections: unknown,
): void {
  for (const { source } of job.tables) {
    if (source.kind === 'kafka' && source.format !== undefined) {
      problems.notYet(
        `spec.sources[name=${source.name}].format`,
        `format ${source.format.name} on a joined source`,
        'the source the pipeline reads (the first) may be avro or json-schema; a joined source is read as JSON for now',
      );
    }
  }
  if (!isObject(connections) || !isObject(connections.schemaRegistry) || connections.schemaRegistry.url === undefined) return;
  const url = connections.schemaRegistry.url;
  if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) {
    problems.add('spec.connections.schemaRegistry.url', `${showValue(url)} is not a registry URL such as http://sluice-registry:8081`);
    return;
  }
  const formats = [job.source, ...job.tables.map((table) => table.source), ...job.sinks].map((io) => (io.kind === 'kafka' ? io.format : undefined));
  for (const format of formats) if (format !== undefined && format.name !== 'json' && format.registryUrl === undefined) format.registryUrl = url;
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

/** How far past the wall clock an event time may be when the spec does not say: one hour. */
export const DEFAULT_MAX_FUTURE_SKEW = 3_600_000;

/** `clock` is the wall clock the event times are checked against; tests pass their own. */
export function compileEventTime(problems: Problems, path: string, spec: unknown, clock: Clock = Date.now): EventTime | undefined {
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
  const maxFutureSkew = duration(problems, `${path}.maxFutureSkew`, spec.maxFutureSkew, DEFAULT_MAX_FUTURE_SKEW);
  const idleTimeout = spec.idleTimeout === undefined ? undefined : positiveDuration(problems, `${path}.idleTimeout`, spec.idleTimeout);
  if (maxOutOfOrderness === undefined || maxFutureSkew === undefined) return undefined;
  const read = READERS[format](field);
  const eventTime: EventTime = { field, format, maxOutOfOrderness, maxFutureSkew, extract: boundedByClock(path, read, maxFutureSkew, clock) };
  if (idleTimeout !== undefined) eventTime.idleTimeout = idleTimeout;
  return eventTime;
}

/** Reads a record's event time in epoch ms; what it throws is the record's dead-letter reason. */
type EventTimeReader = (record: Record<string, unknown>) => number;

function notAnEventTime(field: string, value: unknown, expected: string): Error {
  return new Error(`the event time field ${field} is ${value === undefined ? 'missing' : showValue(value)}, not ${expected}`);
}

/** An epoch number is taken only within the range of a date (±8.64e15 ms): past it, no window bound or result timestamp could be written. */
function epochReader(field: string, msPerUnit: number, unit: string): EventTimeReader {
  const read = fieldReader(field);
  const limit = DATE_RANGE_MS / msPerUnit;
  return (record) => {
    const value = read(record);
    if (typeof value !== 'number' || !(value >= -limit && value <= limit)) {
      throw notAnEventTime(field, value, `a number of epoch ${unit} within ±${limit} (the range of a date)`);
    }
    return Math.floor(value * msPerUnit);
  };
}

const READERS: Record<EventTimeFormat, (field: string) => EventTimeReader> = {
  iso8601: (field) => {
    const read = fieldReader(field);
    return (record) => {
      const value = read(record);
      if (typeof value !== 'string') throw notAnEventTime(field, value, `an ISO-8601 time such as 2025-12-05T10:23:15Z`);
      try {
        return parseIsoDateTime(value);
      } catch (error) {
        throw notAnEventTime(field, value, `an ISO-8601 time: ${messageOf(error)}`);
      }
    };
  },
  'epoch-millis': (field) => epochReader(field, 1, 'milliseconds'),
  'epoch-seconds': (field) => epochReader(field, 1000, 'seconds'),
};

/**
 * Refuses event times more than `maxFutureSkew` past the wall clock, before they can reach the
 * watermark: one such record would otherwise move its partition's watermark so far ahead that every
 * later record is late. The clock is read only when a time passes the horizon last computed: the
 * wall clock only moves on, so a time below an old horizon is below the current one too.
 */
function boundedByClock(path: string, read: EventTimeReader, maxFutureSkew: number, clock: Clock): EventTimeReader {
  let horizon = Number.NEGATIVE_INFINITY;
  return (record) => {
    const time = read(record);
    if (time > horizon) {
      const now = clock();
      horizon = now + maxFutureSkew;
      if (time > horizon) {
        throw new Error(
          `the event time ${formatIsoTime(time)} is more than ${path}.maxFutureSkew (${formatDuration(maxFutureSkew)}) past the wall clock (${formatIsoTime(now)}); fix the clock of the record's producer, or raise maxFutureSkew if such times are expected`,
        );
      }
    }
    return time;
  };
}
