/**
 * Zombie fencing for a source split over tasks, as Kafka Connect's exactly-once sources do it
 * (KIP-618): each task count is a generation of transactional ids (transactionalId), and the tasks
 * of a new count fence every id of the count before them ahead of their first record. A task of
 * the old count still running (a worker not reloaded yet, or frozen, or slow to stop) would
 * otherwise go on producing tables that now belong to a task of the new count: each under its own
 * id, neither fencing the other, both producing the same rows.
 */
import type { Kafka } from "kafkajs";
import type { TaskRef } from "../connector.js";
import { TransactionalProducer } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import type { SourceOffsetStore } from "../offsets/source-offsets.js";
import { tasksOf, transactionalId } from "../tasks.js";

export interface GenerationParts {
  connector: string;
  task: TaskRef;
  offsets: SourceOffsetStore;
  /** The task's own producer, connected: it records the new count, once the old one is fenced. */
  producer: TransactionalProducer;
  kafka: () => Kafka;
  transactionTimeoutMs: number;
  log: Logger;
}

/**
 * Before the task reads its position: if the count recorded (1 when none is) is not this task's,
 * each transactional id of that count is registered once more, which bumps its epoch and aborts
 * its open transaction (a producer of it fails at its next send), and then this count is recorded.
 * Every task of the new count does it; the second time fences nothing new. Ids of the task's own
 * count are never fenced here, so the tasks of one count do not fence each other.
 */
export async function fenceEarlierGeneration(parts: GenerationParts): Promise<void> {
  const { connector, task, offsets } = parts;
  const before = (await offsets.taskCount(connector)) ?? 1;
  if (before === task.count) return;
  const started = performance.now();
  const ids = await fenceTasks(parts, before);
  await parts.producer.commit([offsets.taskCountMessage(connector, task.count)]);
  parts.log.info({ tasks: task.count, before, fenced: ids, ms: Math.round(performance.now() - started) }, `the task count changed from ${before} to ${task.count}: the earlier tasks' transactional ids are fenced`);
}

/** Fences every transactional id of `count` tasks of the connector; returns them. */
export async function fenceTasks(parts: Pick<GenerationParts, "connector" | "kafka" | "transactionTimeoutMs">, count: number): Promise<string[]> {
  const ids = tasksOf(count).map((t) => transactionalId(parts.connector, t));
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
