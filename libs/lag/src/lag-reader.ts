// The lag monitor's only window on Kafka: four admin reads. An interface so the monitor is
// tested without a broker; KafkaLagReader is the kafkajs implementation.
import { Admin, AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { createKafka } from '@app/kafka';
import type { GroupMember } from './lag-types';
import type { KafkaSecurityOptions } from './lag-options';

export interface PartitionEnds {
  partition: number;
  startOffset: number;
  endOffset: number;
}

export interface OffsetsAtTime {
  /** Epoch ms asked for. */
  at: number;
  /** partition -> the first offset whose record timestamp is >= at (the end offset if none). */
  offsets: Map<number, number>;
}

export interface GroupDescription {
  state: string;
  members: GroupMember[];
}

export interface LagReader {
  /** Log start and end offsets of every partition of a topic. */
  readEnds(topic: string): Promise<PartitionEnds[]>;
  /** The group's committed offset per partition of a topic; null where it never committed. */
  readCommitted(groupId: string, topic: string): Promise<Map<number, number | null>>;
  /** Offsets by record timestamp (ListOffsets with a time), oldest first. */
  readOffsetsAtTimes(topic: string, timestamps: number[]): Promise<OffsetsAtTime[]>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  /** Forget connections so the next read connects afresh (after a broker failure). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaLagReaderOptions extends KafkaSecurityOptions {
  brokers: string[];
  clientId: string;
  /** Keep a read short so a broker outage shows as ERR within a poll or two. */
  requestTimeoutMs?: number;
}

export class KafkaLagReader implements LagReader {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;

  constructor(options: KafkaLagReaderOptions) {
    this.kafka = createKafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      // Fail fast: the next poll is the retry. kafkajs' default retries take ~30 s to give up.
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
      logLevel: logLevel.NOTHING,
    });
  }

  async readEnds(topic: string): Promise<PartitionEnds[]> {
    const admin = await this.connected();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, startOffset: Number(o.low), endOffset: Number(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async readCommitted(groupId: string, topic: string): Promise<Map<number, number | null>> {
    const admin = await this.connected();
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map<number, number | null>();
    // kafkajs reports "never committed" as offset -1.
    for (const p of result?.partitions ?? []) committed.set(p.partition, Number(p.offset) >= 0 ? Number(p.offset) : null);
    return committed;
  }

  async readOffsetsAtTimes(topic: string, timestamps: number[]): Promise<OffsetsAtTime[]> {
    const admin = await this.connected();
    const sorted = [...timestamps].sort((a, b) => a - b);
    return Promise.all(
      sorted.map(async (at) => {
        const entries = await admin.fetchTopicOffsetsByTimestamp(topic, at);
        return { at, offsets: new Map(entries.map((e) => [e.partition, Number(e.offset)])) };
      }),
    );
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const admin = await this.connected();
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (!group) return { state: 'Unknown', members: [] };
    return {
      state: group.state,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignments: decodeAssignment(m.memberAssignment),
      })),
    };
  }

  async reset(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    if (!this.connecting) {
      const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 } });
      this.connecting = admin.connect().then(
        () => (this.admin = admin),
        (error: unknown) => {
          this.connecting = undefined;
          throw error;
        },
      );
    }
    return this.connecting;
  }
}

/** A member's assignment is an opaque buffer in the group protocol; kafkajs' assigners use this layout. */
function decodeAssignment(buffer: Buffer): GroupMember['assignments'] {
  if (!buffer || buffer.length === 0) return [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
    if (!decoded) return [];
    return Object.entries(decoded.assignment).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
  } catch {
    // A non-kafkajs client may use another layout: the group is still shown, without owners.
    return [];
  }
}
