import type { Admin, ITopicConfig, Kafka } from "kafkajs";
import { ErrorCode, LiberatorError } from "../errors.js";
import { describeKafkaConnectError } from "./connect-errors.js";

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** -1 takes the broker's default. */
  replicationFactor?: number;
  compact?: boolean;
  config?: Record<string, string>;
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<void> {
  if (specs.length === 0) return;
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    await createTopicsWithLeaders(
      admin,
      missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions ?? 1,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: Object.entries({
          ...(s.compact ? { "cleanup.policy": "compact" } : {}),
          ...s.config,
        }).map(([name, value]) => ({ name, value })),
      })),
    );
  });
}

/** Metadata answers a KRaft broker may give for a moment after it created a topic. */
const NOT_YET = new Set(["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"]);

/**
 * Creates topics and waits until each partition has a leader. kafkajs's own `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE, while a KRaft broker may first answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created, which failed the create.
 */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      if (found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!NOT_YET.has((err as { type?: string }).type ?? "") || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new LiberatorError(ErrorCode.KAFKA_UNAVAILABLE, `topics ${names.join(", ")} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An admin client, connected; the caller disconnects it. */
export async function connectedAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw describeKafkaConnectError(err, "check kafka.brokers and that the brokers are up");
  }
  return admin;
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = await connectedAdmin(kafka);
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Next offset per partition (the last stable offset, since kafkajs lists offsets read_committed). */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
}
