/**
 * Zombie fencing for a source split over tasks, as Kafka Connect's exactly-once sources do it
 * (KIP-618): each generation of tasks (their count, and how the work is split among them) has
 * transactional ids of its own (transactionalId), and the tasks of a new generation fence every id
 * of the one before ahead of their first record. A task of the old generation still running (a
 * worker not reloaded yet, or frozen, or slow to stop) would otherwise go on producing tables that
 * now belong to a task of the new one: each under its own id, neither fencing the other, both
 * producing the same rows.
 */
import type { Kafka } from "kafkajs";
import { TransactionalProducer } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import type { SourceOffsetStore } from "../offsets/source-offsets.js";
import { tasksOf, transactionalId, type Generation } from "../tasks.js";

export interface GenerationParts {
  connector: string;
  generation: Generation;
  offsets: SourceOffsetStore;
  /** The task's own producer, connected: it records the new generation, once the old one is fenced. */
  producer: TransactionalProducer;
  kafka: () => Kafka;
  transactionTimeoutMs: number;
  log: Logger;
}

const sameGeneration = (a: Generation, b: Generation) => a.count === b.count && a.split === b.split;

/**
 * Before the task reads its position: if the generation recorded (one task when none is) is not
 * this task's, each transactional id of that generation is registered once more, which bumps its
 * epoch and aborts its open transaction (a producer of it fails at its next send), and then this
 * generation is recorded. Every task of the new generation does it; the second time fences nothing
 * new. Ids of the task's own generation are never fenced here, so its tasks do not fence each other.
 */
export async function fenceEarlierGeneration(parts: GenerationParts): Promise<void> {
  const { connector, generation, offsets } = parts;
  const before = (await offsets.generation(connector)) ?? { count: 1 };
  if (sameGeneration(before, generation)) return;
  const started = performance.now();
  const ids = await fenceTasks(parts, before);
  await parts.producer.commit([offsets.taskCountMessage(connector, generation)]);
  const changed = before.count === generation.count ? `the split of its ${generation.count} tasks changed (a stream added, removed or moved)` : `the task count changed from ${before.count} to ${generation.count}`;
  parts.log.info({ tasks: generation.count, before: before.count, fenced: ids, ms: Math.round(performance.now() - started) }, `${changed}: the earlier tasks' transactional ids are fenced`);
}

/** Fences every transactional id of a generation of the connector's tasks; returns them. */
export async function fenceTasks(parts: Pick<GenerationParts, "connector" | "kafka" | "transactionTimeoutMs">, generation: Generation): Promise<string[]> {
  const ids = tasksOf(generation.count).map((t) => transactionalId(parts.connector, generation, t.index));
  await Promise.all(ids.map((id) => fence(parts, id)));
  return ids;
}

async function fence(parts: Pick<GenerationParts, "connector" | "kafka" | "transactionTimeoutMs">, id: string): Promise<void> {
  const producer = new TransactionalProducer(parts.kafka(), { transactionalId: id, connector: parts.connector, transactionTimeoutMs: parts.transactionTimeoutMs });
  try {
    await producer.connect();
  } finally {
    await producer.disconnect();
  }
}
