/**
 * Co-partitioned assignment: every member of the group gets the SAME
 * partition numbers of every subscribed topic. The exporter keys spans and
 * logs by trace id with one partitioner, so partition p of otlp_spans and
 * partition p of otlp_logs hold the same traces; giving both to one member
 * lets the correlation processor see a whole trace in one process.
 *
 * Partition numbers (the union over the topics, so topics with different
 * partition counts still get every partition assigned) are dealt round-robin
 * over the members sorted by id: number p goes to member p mod n.
 */
import type { GroupMember, GroupMemberAssignment, GroupState, PartitionAssigner } from 'kafkajs';
import { kafkajs } from '../../lib/kafka/kafkajs.ts';

export const CO_PARTITIONED = 'TrailhouseCoPartitioned';

/** The assignment as plain data (the kafkajs wrapper below encodes it). */
export function coPartition(memberIds: string[], partitionsByTopic: Map<string, number[]>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  if (members.length === 0) return out;
  const numbers = [...new Set([...partitionsByTopic.values()].flat())].sort((a, b) => a - b);
  numbers.forEach((p, i) => {
    const member = members[i % members.length]!;
    const a = out.get(member)!;
    for (const [topic, parts] of partitionsByTopic) {
      if (parts.includes(p)) (a[topic] ??= []).push(p);
    }
  });
  return out;
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 0,
  async assign({ members, topics }: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]> {
    const partitionsByTopic = new Map<string, number[]>();
    for (const topic of topics) {
      partitionsByTopic.set(topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId));
    }
    const plan = coPartition(members.map((m) => m.memberId), partitionsByTopic);
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: kafkajs().AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }: { topics: string[] }): GroupState {
    return { name: CO_PARTITIONED, metadata: kafkajs().AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
