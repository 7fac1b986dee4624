// The benchmarked jobs as manifests on this run's topics: the fraud-velocity example as it is shipped, and the filter/map job of the latency phase.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from './runtime-process.js';

interface Manifest {
  metadata: { name: string };
  spec: {
    sources: { name: string; kafka: { topic: string; keyedBy?: string } }[];
    sinks: ({ name: string; kafka?: { topic: string }; redis?: { key: string } } & Record<string, unknown>)[];
    lateOutput?: { topic: string };
    delivery?: { commitInterval?: string };
    deadLetter?: { topic: string };
  };
}

export interface JobTopics {
  /** The job's name: its consumer group and transactional id derive from it, so a fresh name is a fresh start. */
  name: string;
  input: string;
  /** The topic of each Kafka sink, in order. */
  outputs: string[];
}

export interface JobChanges {
  /** Keep the Redis sinks (their keys get the `<name>:` prefix, so runs do not share keys); false drops them. */
  redis: boolean;
  /** spec.delivery.commitInterval, when given. */
  commitInterval?: string | undefined;
  /** The topics of the sources after the first (a join's tables), by source name. */
  sourceTopics?: Record<string, string> | undefined;
  /** Drop the first source's keyedBy: a keyBy then repartitions. */
  notKeyed?: boolean | undefined;
}

/** The manifest at `path` with its source, Kafka sinks, late and dead-letter outputs on `<name>-…` topics, written into `dir`. */
export function jobOnTopics(
  path: string,
  name: string,
  input: string,
  { redis, commitInterval, sourceTopics, notKeyed }: JobChanges,
  dir: string,
): { file: string; topics: JobTopics } {
  const manifest = parse(readFileSync(join(repoRoot, path), 'utf8')) as Manifest;
  manifest.metadata.name = name;
  manifest.spec.sources[0]!.kafka.topic = input;
  if (notKeyed === true) delete manifest.spec.sources[0]!.kafka.keyedBy;
  for (const source of manifest.spec.sources.slice(1)) {
    const topic = sourceTopics?.[source.name];
    if (topic === undefined) throw new Error(`${path}: no topic given for its source "${source.name}"; pass it in sourceTopics`);
    source.kafka.topic = topic;
  }
  const outputs: string[] = [];
  manifest.spec.sinks = manifest.spec.sinks.filter((sink) => redis || sink.redis === undefined);
  for (const sink of manifest.spec.sinks) {
    if (sink.kafka !== undefined) {
      sink.kafka.topic = `${name}-${sink.name}`;
      outputs.push(sink.kafka.topic);
    }
    if (sink.redis !== undefined) sink.redis.key = `${name}:${sink.redis.key}`;
  }
  if (manifest.spec.lateOutput !== undefined) manifest.spec.lateOutput.topic = `${name}-late`;
  if (manifest.spec.deadLetter !== undefined) manifest.spec.deadLetter.topic = `${name}-dead-letter`;
  if (commitInterval !== undefined) manifest.spec.delivery = { ...manifest.spec.delivery, commitInterval };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(manifest));
  return { file, topics: { name, input, outputs } };
}

export const FRAUD_VELOCITY_JOB = 'examples/fraud-velocity/job.yaml';
export const FILTER_MAP_JOB = 'bench/jobs/filter-map.yaml';
export const FAILED_LOGINS_JOB = 'examples/failed-logins/job.yaml';
export const ENRICHMENT_JOB = 'bench/jobs/enrichment-by-customer.yaml';
export const FAILED_LOGINS_LATENCY_JOB = 'bench/jobs/failed-logins-latency.yaml';
