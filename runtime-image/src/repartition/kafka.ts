// Runtime pods do not run a repartition stage yet: a job that needs one is refused, with the keyBy, the source and the fix, never run on partial keys.
import type { CompiledJob } from '../compiler/job.js';

/**
 * Why `job` cannot run on runtime pods, or undefined when it can: a task there reads only its own source partitions,
 * so a keyBy on anything but the topic's key would aggregate each key's records per partition (two half-counts of a
 * customer whose transactions sit in two partitions). streamctl run repartitions in memory and runs such a job.
 */
export function repartitionRefusal(job: Pick<CompiledJob, 'source' | 'repartition'>): string | undefined {
  const { source, repartition: plan } = job;
  if (plan === undefined || source.kind !== 'kafka') return undefined;
  const declared =
    plan.sourceKeyedBy === undefined
      ? 'declares no spec.sources[0].kafka.keyedBy'
      : `is keyed by ${plan.sourceKeyedBy} (spec.sources[0].kafka.keyedBy)`;
  return (
    `${plan.path}: keys by ${plan.key}, but source ${source.name} (Kafka topic ${source.topic}) ${declared}, so each key's records may sit in several partitions ` +
    'and the job needs a repartition stage, which runtime pods do not run yet (streamctl run does); the job is refused rather than aggregate each partition\'s share of a key apart. ' +
    `If the topic's producers key its messages by ${plan.key}, set spec.sources[0].kafka.keyedBy: ${JSON.stringify(plan.key)}; ` +
    `otherwise produce the topic keyed by ${plan.key} (or copy it into one that is) and declare that`
  );
}

/** For the runtime: throws, with the refusal as its message, for a job runtime pods cannot run. */
export function requireNoRepartition(job: Pick<CompiledJob, 'name' | 'source' | 'repartition'>): void {
  const refusal = repartitionRefusal(job);
  if (refusal !== undefined) throw new Error(`job ${job.name} cannot start: ${refusal}`);
}
