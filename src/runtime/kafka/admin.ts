import type { Admin, Kafka } from "kafkajs";
import { ConnectionError } from "../errors.js";

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
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions ?? 1,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: Object.entries({
          ...(s.compact ? { "cleanup.policy": "compact" } : {}),
          ...s.config,
        }).map(([name, value]) => ({ name, value })),
      })),
    });
  });
}

/** An admin client, connected; the caller disconnects it. */
export async function connectedAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ConnectionError(`cannot reach Kafka: ${(err as Error).message}`, {
      cause: err,
      fix: "check kafka.brokers and that the brokers are up",
    });
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
