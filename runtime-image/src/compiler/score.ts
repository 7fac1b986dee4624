// A pipeline's score step → the score operator: an HTTP scoring endpoint called per record or micro-batch, its answer joined to the record.
import type { DataStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { ScoringClient } from '../score/client.js';
import { ScoreMetrics } from '../score/metrics.js';
import { type CelExpression, compileCel } from './cel.js';
import type { Problems } from './problems.js';
import { duration, fieldReader, isObject, setKeys, type Spec } from './values.js';

type Row = Record<string, unknown>;

const SETTINGS = ['url', 'request', 'into', 'fields', 'batchSize', 'concurrency', 'queueSize', 'timeout', 'retries', 'retryBackoff', 'headers'];
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The defaults the CRD documents. */
export const SCORE_DEFAULTS = { into: 'score', batchSize: 1, concurrency: 4, timeout: 2000, retries: 3, retryBackoff: 100 } as const;

/** One metrics set per compilation (its Problems), shared by the job's score steps, labelled by step id: a registry takes a metric name once. */
const metricsOfCompilation = new WeakMap<Problems, ScoreMetrics>();

/** The score step `body` after `stream`; undefined after recording its problems. */
export function compileScore(problems: Problems, path: string, body: unknown, id: string, stream: DataStream<Row> | undefined): DataStream<Row> | undefined {
  if (!isObject(body)) {
    problems.add(path, 'must be an object such as { url: http://fraud-model:8080/score, into: fraud_score }');
    return undefined;
  }
  const before = problems.list.length;
  for (const key of Object.keys(body)) if (!SETTINGS.includes(key)) problems.add(`${path}.${key}`, `is not a score setting; use ${SETTINGS.join(', ')}`);
  const url = endpointUrl(problems, `${path}.url`, body.url);
  const request = body.request === undefined ? undefined : requestExpression(problems, `${path}.request`, body.request);
  const join = answerJoin(problems, path, body);
  const batchSize = count(problems, `${path}.batchSize`, body.batchSize, SCORE_DEFAULTS.batchSize, 10_000);
  const concurrency = count(problems, `${path}.concurrency`, body.concurrency, SCORE_DEFAULTS.concurrency, 256);
  const queueSize = count(problems, `${path}.queueSize`, body.queueSize, 2 * (concurrency ?? 1) * (batchSize ?? 1), 1_000_000);
  const retries = count(problems, `${path}.retries`, body.retries, SCORE_DEFAULTS.retries, 20, 0);
  const timeout = duration(problems, `${path}.timeout`, body.timeout, SCORE_DEFAULTS.timeout);
  const retryBackoff = duration(problems, `${path}.retryBackoff`, body.retryBackoff, SCORE_DEFAULTS.retryBackoff);
  if (timeout === 0) problems.add(`${path}.timeout`, 'must be longer than 0; use a duration such as 2s');
  const headers = headerMap(problems, `${path}.headers`, body.headers);
  if (problems.list.length > before || stream === undefined) return undefined;
  const metrics = metricsOfCompilation.get(problems) ?? new ScoreMetrics();
  metricsOfCompilation.set(problems, metrics);
  const endpoint = new ScoringClient({ url: url!, headers, timeout: timeout!, retries: retries!, retryBackoff: retryBackoff! });
  const build = request === undefined ? (record: Row): unknown => record : (record: Row): unknown => request.evaluate(record);
  return problems.attempt(`${path}`, () =>
    stream.score({ endpoint, request: build, join: join!, batchSize: batchSize!, concurrency: concurrency!, queueSize: queueSize!, observer: metrics }, { id }),
  );
}

function endpointUrl(problems: Problems, path: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value)) {
    problems.add(
      path,
      `${showValue(value)} is not an http:// or https:// URL; give the endpoint each call POSTs to, for example http://fraud-model:8080/score`,
    );
    return undefined;
  }
  return problems.attempt(path, () => new URL(value).toString());
}

function requestExpression(problems: Problems, path: string, value: unknown): CelExpression | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.add(path, `${showValue(value)} is not a CEL expression; write one as a string, for example {"amount": amount}`);
    return undefined;
  }
  return problems.attempt(path, () => compileCel(value));
}

/** into (the whole answer in one field) or fields (output field → answer field path). */
function answerJoin(problems: Problems, path: string, body: Spec): ((record: Row, answer: unknown) => Row) | undefined {
  const set = setKeys(body, ['into', 'fields']);
  if (set.length === 2) {
    problems.add(path, 'set into (the whole answer in one field) or fields (picked answer fields), not both');
    return undefined;
  }
  if (set[0] !== 'fields') {
    const into = body.into ?? SCORE_DEFAULTS.into;
    if (typeof into !== 'string' || !FIELD.test(into)) {
      problems.add(`${path}.into`, `${showValue(into)} is not a field name such as fraud_score`);
      return undefined;
    }
    return (record, answer) => ({ ...record, [into]: answer });
  }
  const fields = body.fields;
  if (!isObject(fields) || Object.keys(fields).length === 0) {
    problems.add(`${path}.fields`, 'must map at least one output field to an answer field, for example { fraud_score: score }');
    return undefined;
  }
  const picks: [string, string, (answer: Row) => unknown][] = [];
  for (const [name, from] of Object.entries(fields)) {
    if (!FIELD.test(name)) problems.add(`${path}.fields.${name}`, 'is not a field name such as fraud_score');
    else if (typeof from !== 'string' || !PATH.test(from))
      problems.add(`${path}.fields.${name}`, `${showValue(from)} is not a field of the answer such as score or model.version`);
    else picks.push([name, from, fieldReader(from)]);
  }
  if (picks.length !== Object.keys(fields).length) return undefined;
  return (record, answer) => {
    if (!isObject(answer))
      throw new Error(`the answer ${showValue(answer).slice(0, 100)} is not a JSON object, so fields cannot pick from it; use into instead`);
    const joined: Row = { ...record };
    for (const [name, from, read] of picks) {
      const value = read(answer);
      if (value === undefined) throw new Error(`the answer has no field ${from} (for ${name}); its fields are ${Object.keys(answer).join(', ') || 'none'}`);
      joined[name] = value;
    }
    return joined;
  };
}

function count(problems: Problems, path: string, value: unknown, fallback: number, max: number, min = 1): number | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(path, `${showValue(value)} is not a whole number from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

function headerMap(problems: Problems, path: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || Object.values(value).some((header) => typeof header !== 'string')) {
    problems.add(path, 'must map header names to string values, for example { x-model-version: "7" }');
    return undefined;
  }
  return value as Record<string, string>;
}
