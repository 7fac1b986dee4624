// A repartitioned job on runtime pods: its repartition topic's name, and the jobs pods still refuse (stage 1 with state), with the keyBy, the source and the fix.
import type { CompiledJob } from '../compiler/job.js';
import { statefulOperatorIds } from '../kafka/changelog.js';
import type { RepartitionPlan } from './plan.js';

/** The internal topic between the stages: `<application id>-<keyBy step id>-repartition`, as many partitions as the source. */
export function repartitionTopic(applicationId: string, plan: Pick<RepartitionPlan, 'stepId'>): string {
  return `${applicationId}-${plan.stepId}-repartition`;
}

/**
 * Appended to the spec hash a repartitioned job's snapshots record: their state is placed by the key's hash, where a
 * snapshot of the same job without the repartition holds each key under its source partition, so a restore can tell.
 */
export function repartitionedSnapshotTag(plan: Pick<RepartitionPlan, 'stepId'>): string {
  return `+repartition-${plan.stepId}`;
}

/**
 * Why `job` cannot run on runtime pods, or undefined when it can. A repartitioned job runs there in two stages
 * through its repartition topic (kafka-stage.ts), except where stage 1 would hold state, which that topic does not
 * carry yet: a job that joins a table, or keeps state before its keyBy. Such a job is refused rather than run on
 * each partition's share of a key. streamctl run repartitions in memory and runs it.
 */
export function repartitionRefusal(job: Pick<CompiledJob, 'source' | 'repartition' | 'tables'>): string | undefined {
  const { source, repartition: plan } = job;
  if (plan === undefined || source.kind !== 'kafka') return undefined;
  const declare = `if the topic's producers key its messages by ${plan.key}, set spec.sources[0].kafka.keyedBy: ${JSON.stringify(plan.key)} and no repartition stage is needed`;
  const needs = `${plan.path}: keys by ${plan.key}, but source ${source.name} (Kafka topic ${source.topic}) ${declaredAs(plan.sourceKeyedBy)}, so the job needs a repartition stage`;
  if (job.tables.length > 0) return `${needs}, which runtime pods do not run yet for a job that joins a table (streamctl run does); ${declare}`;
  const stateful = statefulOperatorIds(plan.upstream);
  if (stateful.length > 0)
    return `${needs}, which runtime pods do not run yet for steps before the keyBy that keep state (${stateful.join(', ')}); move them after the keyBy, or ${declare}`;
  return undefined;
}

function declaredAs(keyedBy: string | undefined): string {
  return keyedBy === undefined ? 'declares no spec.sources[0].kafka.keyedBy' : `is keyed by ${keyedBy} (spec.sources[0].kafka.keyedBy)`;
}
