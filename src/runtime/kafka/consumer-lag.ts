import type { Admin, Kafka } from "kafkajs";
import type { Metrics } from "../metrics.js";
import type { Logger } from "../log.js";
import { resolveTopics } from "./topics.js";

/**
 * A sink's consumer lag per partition: the partition's end (last stable offset) minus the offset its
 * consumer group last committed. That is what kafka-consumer-groups.sh, Burrow and KEDA's Kafka
 * scaler read, and it is read here on a timer rather than per batch so that it keeps rising while a
 * sink is paused or stuck, when no batch comes to report it. A sink's topic entries are resolved
 * every round: a topic that does not exist yet has no lag, a new match of a pattern gets one.
 */
export class ConsumerLagMonitor {
  private readonly watched = new Map<string, { groupId: string; topics: string[] }>();
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private failing = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly metrics: Metrics,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  watch(connector: string, groupId: string, topics: string[]): void {
    this.watched.set(connector, { groupId, topics });
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  unwatch(connector: string): void {
    this.watched.delete(connector);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /** One round over every watched sink. */
  private async poll(): Promise<void> {
    if (this.polling || this.watched.size === 0) return;
    this.polling = true;
    try {
      if (!this.admin) {
        const admin = this.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      const existing = await this.admin.listTopics();
      for (const [connector, { groupId, topics }] of this.watched) {
        const resolved = resolveTopics(topics, existing).topics;
        if (resolved.length > 0) await this.measure(this.admin, connector, groupId, resolved);
      }
      if (this.failing) this.log.info("reading sink consumer lag works again");
      this.failing = false;
    } catch (err) {
      // one line when it starts failing, not one per round
      if (!this.failing) this.log.warn({ err }, "cannot read sink consumer lag from Kafka; the lag metric is stale until it can");
      this.failing = true;
    } finally {
      this.polling = false;
    }
  }

  private async measure(admin: Admin, connector: string, groupId: string, topics: string[]): Promise<void> {
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId, topics }),
      Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))),
    ]);
    if (!this.watched.has(connector)) return;
    for (const { topic, partitions } of ends) {
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const { partition, high, low } of partitions) {
        const at = done.find((d) => d.partition === partition)?.offset;
        // no commit yet: the consumer starts at the beginning
        const from = at === undefined || at === "-1" ? BigInt(low) : BigInt(at);
        const lag = BigInt(high) - from;
        this.metrics.setConsumerLag(connector, topic, partition, Number(lag > 0n ? lag : 0n));
      }
    }
  }
}
