/**
 * A topic as `liberator verify --through-kafka` reads it: every committed record from the
 * beginning to the end the call found (read_committed, so aborted transactions are skipped),
 * decoded with the schema layer, handed over in offset order per partition.
 */
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { endOffsets } from "../runtime/kafka/admin.js";
import { ConnectionError } from "../runtime/errors.js";
import type { RecordDeserializer } from "../runtime/schema-registry/serde.js";

export interface KafkaSide {
  kafka: Kafka;
  deserializer: RecordDeserializer;
  /** How long one topic may take to read to its end. */
  timeoutMs: number;
}

/** False when the topic does not exist. */
export async function readTopic(side: KafkaSide, topic: string, each: (key: unknown, value: unknown) => void): Promise<boolean> {
  const admin = side.kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) return false;
    ends = await endOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
  /** Next offset to pass per partition: a partition is done once it reaches its end (commit markers included). */
  const reached = new Map<number, bigint>();
  const done = () => [...ends].every(([p, end]) => (reached.get(p) ?? 0n) >= end);
  if (done()) return true;
  const consumer = side.kafka.consumer({ groupId: `liberator-verify-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let failure: Error | undefined;
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const next = BigInt(payload.lastOffset) + 1n;
    if (next > (reached.get(payload.partition) ?? 0n)) reached.set(payload.partition, next);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failure = payload.error;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition) ?? 0n;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          const key = await side.deserializer.deserialize(m.key);
          const value = await side.deserializer.deserialize(m.value);
          each(key?.value ?? null, value?.value ?? null);
        }
      },
    });
    const deadline = Date.now() + side.timeoutMs;
    while (!done()) {
      if (failure) throw failure;
      if (Date.now() > deadline) {
        throw new ConnectionError(`timed out reading topic ${topic} to its end after ${side.timeoutMs} ms`, {
          fix: "check that the brokers are healthy and that no transaction on this topic is stuck open",
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  } finally {
    await consumer.disconnect();
  }
}
