// The typed DataStream API (filter, map, flatMap, keyBy, window, aggregate) and the dataflow graph it builds; the YAML compiles onto it.
import { SluiceError } from '@sluice/crds/errors';
import { type AggregateSpec, compileAggregates } from '../aggregate/aggregates.js';
import { type DurationLike, toMillis } from '../time/duration.js';
import type { WindowAssigner } from '../window/assigners.js';
import { WINDOW_FIELDS, WindowOperator } from '../window/operator.js';
import { type KeySelector, keyByFields, keyByFunction } from './keys.js';
import type { Operator, OperatorContext } from './operator.js';
import { filterOperator, flatMapOperator, mapOperator } from './transforms.js';
import { PatternOperator, type PatternOperatorOptions } from '../pattern/operator.js';
import { type TableJoinOptions, tableJoinOperator } from '../join/table-join.js';
import { type IntervalJoinOptions, intervalJoinOperator } from '../join/interval-join.js';
import type { Metric } from 'prom-client';
import { type ScoreOptions, scoreOperator } from '../score/operator.js';
import { ScoreMetrics } from '../score/metrics.js';

export type OperatorKind = 'filter' | 'map' | 'flatMap' | 'window' | 'join' | 'pattern' | 'score';

/** One operator of the graph; a task creates its own instance of each. */
export interface OperatorNode {
  /** Stable across runs and versions of a job: state and snapshots are namespaced by it. */
  readonly id: string;
  readonly kind: OperatorKind;
  /** The node it reads from; null for the one that reads the source. */
  readonly input: string | null;
  create(context: OperatorContext): Operator;
  /** Prometheus metrics the operator feeds (score's calls), for the process to register; steps of one kind may share them. */
  readonly metrics?: readonly Metric[];
}

/** A job's dataflow: the source's event-time settings and its operators, from the source on. */
export interface Dataflow {
  /** Milliseconds; the source partition's watermark trails its largest event time by this + 1 ms. */
  readonly maxOutOfOrderness: number;
  readonly nodes: readonly OperatorNode[];
}

/** A graph that cannot be built; the message names the step and says what to change. */
export class DataflowError extends SluiceError {
  override readonly code = 'SLUICE_E_DATAFLOW';
}

export interface SourceOptions {
  /** How far behind the largest event time seen a record may still arrive in order: `30s`. */
  maxOutOfOrderness: DurationLike;
}

export interface StepOptions {
  /** The operator id; by default its kind and position: `map-2`. */
  id?: string;
}

export interface WindowOptions extends StepOptions {
  /** How long after a window fired late records still update it (and fire it again): `1m`; 0 by default. */
  allowedLateness?: DurationLike;
}

type Row = Record<string, unknown>;

export class DataStream<T extends Row> {
  private constructor(
    private readonly maxOutOfOrderness: number,
    private readonly nodes: readonly OperatorNode[],
  ) {}

  /** The stream of a job's source: records with their event time, as the source reads them. */
  static fromSource<T extends Row>(options: SourceOptions): DataStream<T> {
    return new DataStream<T>(toMillis(options.maxOutOfOrderness), []);
  }

  /** Keeps the records for which `test` returns true. */
  filter(test: (value: T) => boolean, options: StepOptions = {}): DataStream<T> {
    return this.then<T>('filter', options, filterOperator(test));
  }

  map<U extends Row>(transform: (value: T) => U, options: StepOptions = {}): DataStream<U> {
    return this.then<U>('map', options, mapOperator(transform));
  }

  /** Zero or more records for each record, all with its event time. */
  flatMap<U extends Row>(expand: (value: T) => Iterable<U>, options: StepOptions = {}): DataStream<U> {
    return this.then<U>('flatMap', options, flatMapOperator(expand));
  }

  /** Keys the stream by one or more fields (the result keeps their names), or by a function whose result is named `name`. */
  keyBy<K extends keyof T & string>(field: K | readonly K[]): KeyedStream<T>;
  keyBy(select: (value: T) => unknown, name: string): KeyedStream<T>;
  keyBy(by: string | readonly string[] | ((value: T) => unknown), name?: string): KeyedStream<T> {
    if (typeof by === 'function') {
      if (name === undefined || name === '') throw new DataflowError('keyBy with a function needs the name of the key field its result fills');
      return new KeyedStream<T>(this.then.bind(this), keyByFunction(by, name));
    }
    return new KeyedStream<T>(this.then.bind(this), keyByFields(typeof by === 'string' ? [by] : by));
  }

  /** Each record with the latest row of a table (another source) under its join key, in the field `into`; see docs/engine.md, "Joins". */
  joinTable(table: TableJoinOptions, options: StepOptions = {}): DataStream<Row> {
    return this.then<Row>('join', options, tableJoinOperator(table));
  }

  /** Each record with each record of another stream whose key is equal and whose event time is within [ts + lower, ts + upper] (Flink's interval join). */
  joinInterval(join: IntervalJoinOptions, options: StepOptions = {}): DataStream<Row> {
    return this.then<Row>('join', options, intervalJoinOperator(join));
  }

  /** Each record with its answer from a scoring endpoint, in input order per task; see docs/inference.md. */
  score(score: ScoreOptions, options: StepOptions = {}): DataStream<Row> {
    const { observer } = score;
    const metrics = observer instanceof ScoreMetrics ? [observer.calls, observer.records, observer.latency] : undefined;
    return this.then<Row>('score', options, scoreOperator(score), metrics);
  }

  build(): Dataflow {
    return { maxOutOfOrderness: this.maxOutOfOrderness, nodes: this.nodes };
  }

  private then<U extends Row>(
    kind: OperatorKind,
    options: StepOptions,
    create: (context: OperatorContext) => Operator,
    metrics?: readonly Metric[],
  ): DataStream<U> {
    const id = options.id ?? `${kind}-${this.nodes.length + 1}`;
    if (id === '') throw new DataflowError(`the ${kind} step has an empty id; leave it out or name it`);
    if (this.nodes.some((node) => node.id === id)) throw new DataflowError(`operator id ${id} is used twice; give each step its own id`);
    const node: OperatorNode = { id, kind, input: this.nodes.at(-1)?.id ?? null, create, ...(metrics === undefined ? {} : { metrics }) };
    return new DataStream<U>(this.maxOutOfOrderness, [...this.nodes, node]);
  }
}

/** Adds a step after the stream's last one. */
type Then = (kind: OperatorKind, options: StepOptions, create: (context: OperatorContext) => Operator) => DataStream<Row>;

export class KeyedStream<T extends Row> {
  constructor(
    private readonly then: Then,
    private readonly key: KeySelector,
  ) {}

  /** Event-time windows per key: tumbling('5m'), sliding('10m', '1m') or session('30m'). */
  window(assigner: WindowAssigner, options: WindowOptions = {}): WindowedStream<T> {
    return new WindowedStream<T>(this.then, this.key, assigner, options);
  }

  /** One result per match of the pattern per key, in event-time order; see docs/engine.md, "Patterns (CEP)". */
  pattern(pattern: Omit<PatternOperatorOptions, 'key'>, options: StepOptions = {}): DataStream<Row> {
    const { key } = this;
    return this.then('pattern', options, (context) => new PatternOperator({ ...pattern, key }, context));
  }
}

export class WindowedStream<T extends Row> {
  constructor(
    private readonly then: Then,
    private readonly key: KeySelector,
    private readonly assigner: WindowAssigner,
    private readonly options: WindowOptions,
  ) {}

  /**
   * One result per key and window, `{ <key fields>, window_start, window_end, <aggregate names> }`,
   * with the event time window_end − 1; again for every late-but-allowed update.
   */
  aggregate(specs: readonly AggregateSpec<T>[]): DataStream<Row> {
    const aggregates = compileAggregates(specs);
    const taken = new Set<string>([...this.key.fields, ...WINDOW_FIELDS]);
    for (const { name } of aggregates) {
      if (taken.has(name)) throw new DataflowError(`aggregate ${name} would overwrite the result field ${name}; rename the aggregate`);
    }
    const allowedLateness = toMillis(this.options.allowedLateness ?? 0);
    const { assigner, key } = this;
    return this.then('window', this.options, (context) => new WindowOperator({ assigner, allowedLateness, key, aggregates }, context));
  }
}
