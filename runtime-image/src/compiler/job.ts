// A compiled job: the dataflow plus everything a runner needs around it (its source, event time, sinks and side outputs).
import type { JobErasure } from '../erasure/spec.js';
import type { Dataflow } from '../dataflow/datastream.js';
import type { GeneratorOptions } from '../connectors/generator/options.js';
import type { KeyTemplate } from '../connectors/key-template.js';
import type { RepartitionPlan } from '../repartition/plan.js';
import type { RecordFormat } from '../serde/serde.js';
import type { CelExpression } from './cel.js';
import type { SourceRules } from '../quality/rules.js';

export type EventTimeFormat = 'iso8601' | 'epoch-millis' | 'epoch-seconds';

/** Where a record's event time comes from; without it, a record is stamped with the time it is read. */
export interface EventTime {
  field: string;
  format: EventTimeFormat;
  /** Milliseconds. */
  maxOutOfOrderness: number;
  /** Milliseconds past the wall clock beyond which a record's event time is refused (dead-lettered), never reaching the watermark. */
  maxFutureSkew: number;
  /** Milliseconds; absent: an idle partition holds the watermark back until it has records again. */
  idleTimeout?: number;
  /** The record's event time in epoch ms; throws an Error whose message is the record's dead-letter reason. */
  extract(record: Record<string, unknown>): number;
}

export type JobSource =
  | {
      name: string;
      kind: 'kafka';
      topic: string;
      startingOffsets: 'earliest' | 'latest';
      /** The field or CEL expression the topic's producers key it by (kafka.keyedBy): a keyBy on it needs no repartition stage. */
      keyedBy?: string;
      /** How the topic's values are encoded (sources[].format and schema); absent: plain JSON. */
      format?: RecordFormat;
    }
  | { name: string; kind: 'generator'; options: GeneratorOptions }
  | { name: string; kind: 'file'; path: string };

export type JobSink =
  | { name: string; kind: 'kafka'; topic: string; key?: KeyTemplate; /** sinks[].kafka.format and schema; absent: plain JSON. */ format?: RecordFormat }
  | {
      name: string;
      kind: 'redis';
      key: KeyTemplate;
      /** The value to store, computed from the result; absent: the whole result as JSON. */
      value?: CelExpression;
      dataType: 'string' | 'hash';
      /** Milliseconds; absent: keys never expire. */
      ttl?: number;
    }
  | {
      name: string;
      kind: 'postgres';
      /** `name` or `schema.name`. */
      table: string;
      /** The columns of the table's primary key or unique index each result is upserted on. */
      keyColumns: string[];
      /** Column → value computed from the result; absent: each field of the result goes to the column of the same name. */
      columns?: { name: string; value: CelExpression }[];
    }
  | {
      name: string;
      kind: 's3';
      bucket: string;
      /** Ends with / unless empty. */
      prefix: string;
      format: 'parquet' | 'jsonl';
      /** Milliseconds. */
      rollInterval: number;
    }
  | { name: string; kind: 'file'; path: string }
  | { name: string; kind: 'stdout'; format: 'json' | 'pretty' };

/** A side output (late records, dead letters): a Kafka topic or a JSON-lines file; absent, they are counted and dropped. */
export interface SideOutput {
  topic?: string;
  file?: string;
}

/** A source a join step reads as a table (the latest row per key), beside the stream. */
export interface JobTable {
  source: JobSource;
  /** The join step's operator id, which holds the table in its keyed state. */
  joinId: string;
  /** Every task holds the whole table; otherwise task p holds table partition p (co-partitioned). */
  broadcast: boolean;
  /** Set for an interval join's other stream: read beside the stream, interleaved, not to its end before it. */
  interval?: true;
}

export interface CompiledJob {
  /** metadata.name. */
  name: string;
  /** The stream the pipeline reads: spec.sources[0]. */
  source: JobSource;
  /** The sources join steps read as tables, in spec.sources order; empty for a job without joins. */
  tables: JobTable[];
  eventTime?: EventTime;
  dataflow: Dataflow;
  sinks: JobSink[];
  lateOutput?: SideOutput;
  deadLetter?: SideOutput;
  /** Milliseconds between commits (default 100 ms). */
  commitInterval: number;
  /** Set when the keyBy is not the source's partitioning: the job runs in two stages with a repartition between them. */
  repartition?: RepartitionPlan;
  /** spec.state.ttl in milliseconds: keyed state untouched this long is dropped (windows excepted); absent, kept. */
  stateTtl?: number;
  /** spec.erasure: the topic of GDPR erasures, each deleting a subject's keyed state and derived sink rows (erasure/). */
  erasure?: JobErasure;
  /** spec.sources[0].rules: a record that breaks one goes to the dead letters as it enters, before its event time is read. */
  rules?: SourceRules;
}
