import type { Kafka } from "kafkajs";
import type { Logger } from "../log.js";
import { connectCluster, type KafkaCluster } from "./cluster.js";

const tp = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * Commits offsets to a consumer group that has no members, every `intervalMs` and on close, the
 * way Kafka's own admin client alters a group's offsets: one OffsetCommit to the coordinator with
 * no generation and no member id. kafkajs's `admin.setOffsets` joins the group with a consumer and
 * waits out an empty fetch instead, about 5 s a call, which a stop used to wait for.
 */
export class GroupOffsets {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private readonly timer: NodeJS.Timeout;
  private cluster: KafkaCluster | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private unsupported = false;
  /** A member of the group commits for it (a sink whose tasks share the group): set while it is one. */
  private member: ((offsets: { topic: string; partition: number; offset: string }[]) => Promise<void>) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly log: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /**
   * Commits through a member of the group from now on (undefined: from outside again). A group
   * with members refuses commits made from outside it, without a generation.
   */
  through(member: ((offsets: { topic: string; partition: number; offset: string }[]) => Promise<void>) | undefined): void {
    this.member = member;
  }

  set(topic: string, partition: number, offset: string): void {
    this.pending.set(tp(topic, partition), { topic, partition, offset });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    await this.cluster?.disconnect().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.size === 0 || this.unsupported) return this.flushing;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.flushing = (async () => {
      try {
        if (this.member) {
          await this.member(offsets);
          this.failing = false;
          return;
        }
        this.cluster ??= await connectCluster(this.kafka);
        if (!this.cluster) {
          this.unsupported = true;
          this.log.warn({ groupId: this.groupId }, "this kafkajs version does not expose its cluster: the sink's offsets are not committed to its consumer group, and lag tools do not see them");
          return;
        }
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
        const topics = [...new Set(offsets.map((o) => o.topic))].map((topic) => ({
          topic,
          partitions: offsets.filter((o) => o.topic === topic).map(({ partition, offset }) => ({ partition, offset })),
        }));
        await coordinator.offsetCommit({ groupId: this.groupId, groupGenerationId: -1, memberId: "", topics });
        this.failing = false;
      } catch (err) {
        // lag reads stale until it works again; the data path does not depend on it
        for (const o of offsets) if (!this.pending.has(tp(o.topic, o.partition))) this.pending.set(tp(o.topic, o.partition), o);
        if (!this.failing) this.log.warn({ err, groupId: this.groupId }, "cannot commit the sink's offsets to its consumer group; lag tools see old offsets until it can");
        this.failing = true;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
