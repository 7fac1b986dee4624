// Whether a job's keyBy needs a repartition stage (its key is not how the source is partitioned), and the job split into the two stages.
import type { Dataflow } from '../dataflow/datastream.js';
import { partitionOf } from '../connectors/partitioner.js';
import { resolveOptions } from '../connectors/generator/options.js';
import { compileCel } from '../compiler/cel.js';
import type { JobSource } from '../compiler/job.js';
import type { Problems } from '../compiler/problems.js';
import { fieldReader, isObject, type Spec } from '../compiler/values.js';

type Row = Record<string, unknown>;

/** A job whose keyBy is not its source's partitioning: stage 1 runs the steps before keyBy, stage 2 the rest, per key partition. */
export interface RepartitionPlan {
  /** The keyBy step's id (its `id`, or keyBy-<index>): the internal topic is `<application id>-<step id>-repartition`. */
  stepId: string;
  /** Where the keyBy is in the spec, for messages: spec.pipeline[0].keyBy. */
  path: string;
  /** The keyBy's field or CEL expression, as written. */
  key: string;
  /** How the source is partitioned (spec.sources[0].kafka.keyedBy, or a generator's keyField); absent when nothing says. */
  sourceKeyedBy?: string;
  /** The steps before keyBy: one task per source partition. */
  upstream: Dataflow;
  /** The keyBy's window and every step after it: one task per repartition partition; its first node reads the repartition stage. */
  downstream: Dataflow;
  /**
   * The repartition partition of a record: Kafka's partitioner (murmur2) on its key, so a key always lands on the same
   * one. A record whose key cannot be read goes to partition 0, where the window dead-letters it with the same reason
   * as without a repartition stage.
   */
  partitionOf(value: Row, partitions: number): number;
}

/** Two keys are the same when their text is, up to whitespace: `a.b  + c` is `a.b + c` is `a.b+c`. */
export function sameKey(a: string, b: string): boolean {
  return normalizeKey(a) === normalizeKey(b);
}

function normalizeKey(text: string): string {
  return text
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/ ?([^\w\s]) ?/g, '$1');
}

/** How the source is partitioned: one partition (every key in one task), or by a key where something declares it. */
type Partitioning = { onePartition: true } | { onePartition: false; key: string | undefined };

function sourcePartitioning(source: JobSource): Partitioning {
  switch (source.kind) {
    case 'kafka':
      return { onePartition: false, key: source.keyedBy };
    case 'generator':
      return { onePartition: false, key: resolveOptions(source.options).keyField };
    case 'file':
      return { onePartition: true };
  }
}

interface KeyByStep {
  index: number;
  id: string;
  key: string;
  read: (value: Row) => unknown;
}

/** The keyBy steps of a pipeline that compiled, in order, each with its key's text and a reader of its key. */
function keyBySteps(steps: unknown[]): KeyByStep[] {
  const found: KeyByStep[] = [];
  steps.forEach((step, index) => {
    if (!isObject(step) || !isObject(step.keyBy)) return;
    const body = step.keyBy;
    const id = typeof step.id === 'string' && step.id !== '' ? step.id : `keyBy-${index}`;
    if (typeof body.field === 'string') found.push({ index, id, key: body.field, read: fieldReader(body.field) });
    else if (typeof body.expression === 'string') {
      const expression = compileCel(body.expression);
      found.push({ index, id, key: body.expression, read: (value) => expression.evaluate(value) });
    }
  });
  return found;
}

const STEP_OPERATORS = ['filter', 'map', 'flatMap', 'keyBy', 'window', 'join', 'pattern', 'dedupe'] as const;

/** The id of the dataflow node a pipeline step builds (the compiler names a step without id `<operator>-<index>`). */
function stepNodeId(step: Spec, index: number): string | undefined {
  if (typeof step.id === 'string' && step.id !== '') return step.id;
  const operator = STEP_OPERATORS.find((name) => step[name] !== undefined);
  return operator === undefined ? undefined : `${operator}-${index}`;
}

/** The key of a record as the repartition stage hashes it: a string key as it is (as a producer keyed by it would), else its JSON. */
function keyText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/**
 * The repartition stage a compiled pipeline needs, or undefined when its keyBy is the source's partitioning (or it has
 * none). Called only for a spec whose pipeline compiled. A second keyBy that would need a repartition of its own is
 * refused: a job must never compute partial results silently.
 */
export function planRepartition(problems: Problems, steps: unknown, source: JobSource, dataflow: Dataflow): RepartitionPlan | undefined {
  if (!Array.isArray(steps)) return undefined;
  const list = steps as unknown[];
  const partitioning = sourcePartitioning(source);
  if (partitioning.onePartition) return undefined;
  let current = partitioning.key;
  let plan: RepartitionPlan | undefined;
  for (const keyBy of problems.attempt('spec.pipeline', () => keyBySteps(list)) ?? []) {
    if (current !== undefined && sameKey(current, keyBy.key)) continue;
    const path = `spec.pipeline[${keyBy.index}].keyBy`;
    if (plan !== undefined) {
      problems.notYet(
        path,
        `a second repartition (by ${keyBy.key}, after the one by ${plan.key})`,
        `key this step by ${plan.key} as well, or split the job in two`,
      );
      return undefined;
    }
    const next = list[keyBy.index + 1];
    const splitAt = isObject(next) ? dataflow.nodes.findIndex((node) => node.id === stepNodeId(next, keyBy.index + 1)) : -1;
    if (splitAt < 0) {
      problems.add(path, 'must be followed by the step it keys (a window); the repartition stage feeds that step');
      return undefined;
    }
    const { read } = keyBy;
    plan = {
      stepId: keyBy.id,
      path,
      key: keyBy.key,
      upstream: { maxOutOfOrderness: dataflow.maxOutOfOrderness, nodes: dataflow.nodes.slice(0, splitAt) },
      downstream: { maxOutOfOrderness: dataflow.maxOutOfOrderness, nodes: dataflow.nodes.slice(splitAt) },
      partitionOf: (value, partitions) => {
        let key: unknown;
        try {
          key = read(value);
        } catch {
          return 0;
        }
        return partitionOf(keyText(key), partitions);
      },
    };
    if (partitioning.key !== undefined) plan.sourceKeyedBy = partitioning.key;
    current = keyBy.key;
  }
  // A score step's records must have left it before a commit; the two stages' tasks do not wait for that yet.
  const scoring = list.findIndex((step) => isObject(step) && step.score !== undefined);
  if (plan !== undefined && scoring >= 0) {
    problems.notYet(
      `spec.pipeline[${scoring}].score`,
      'a score step in a job that repartitions its stream',
      `key the source by ${plan.key} (spec.sources[0].kafka.keyedBy) so the job needs no repartition, or score in a job of its own`,
    );
    return undefined;
  }
  return plan;
}
