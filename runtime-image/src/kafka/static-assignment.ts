// Static partition ownership on top of kafkajs's group protocol: an assigner that hands every member exactly the partitions it owns.
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const STATIC_ASSIGNER = 'sluice-static';

/** Pod `ordinal` of `parallelism` owns the partitions p with p mod parallelism = ordinal. */
export function ownedPartitions(partitions: number, ordinal: number, parallelism: number): number[] {
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`the parallelism must be a whole number ≥ 1, not ${parallelism}`);
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= parallelism) {
    throw new RangeError(`the pod ordinal must be a whole number between 0 and ${parallelism - 1} (the parallelism less one), not ${ordinal}`);
  }
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => p % parallelism === ordinal);
}

/**
 * kafkajs has no `assign()`: its consumer only reads what a group's assigner gives it. Each fetch
 * runs in a consumer group of its own (a fresh id per start), whose only member is this pod, and
 * this assigner gives that member exactly the partitions the pod owns, of every subscribed topic
 * that has them. So ownership is static, a pod's restart never rebalances another pod, and a
 * restarted pod never waits for its dead predecessor's session to expire. Offsets are not kept in
 * that group: the engine commits them in its transactions to the job's group and seeks to them.
 * Driving fetches through kafkajs's internal broker API instead would mean re-implementing its
 * read_committed filtering of aborted transactions, which is where the risk lies.
 */
export function staticAssigner(partitions: readonly number[]): PartitionAssigner {
  const owned = new Set(partitions);
  return ({ cluster }) => ({
    name: STATIC_ASSIGNER,
    version: 1,
    protocol: ({ topics }) => ({ name: STATIC_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }),
    assign: ({ members, topics }) => {
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) {
        assignment[topic] = cluster
          .findTopicPartitionMetadata(topic)
          .map((meta) => meta.partitionId)
          .filter((p) => owned.has(p))
          .sort((a, b) => a - b);
      }
      // Every member gets the pod's partitions: a second member is a zombie of this pod, fenced by the transactional producer.
      const memberAssignment = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) });
      return Promise.resolve(members.map(({ memberId }) => ({ memberId, memberAssignment })));
    },
  });
}
