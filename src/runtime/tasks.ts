/**
 * A connector runs as one or more tasks (`tasks: N | auto`). Each task is a runner of its own: in
 * one process, N runners side by side; in a cluster, one BullMQ job per task, taken by whichever
 * worker. A task is named by its key: the connector's name for a single task (so everything keyed
 * by name before tasks existed, jobs, owners, offsets, stays as it was), `<name>#<index>` otherwise
 * (`#` cannot appear in a connector's name).
 */
import type { Admin } from "kafkajs";
import type { TaskRef } from "./connector.js";
import type { ConnectorConfig } from "./config/load.js";
import { listResolvedTopics } from "./kafka/topics.js";

export const SINGLE_TASK: TaskRef = Object.freeze({ index: 0, count: 1 });

export const taskKey = (connector: string, task: TaskRef): string => (task.count === 1 ? connector : `${connector}#${task.index}`);

/**
 * What a source task's position is stored under, and its Kafka transactional id's tail. One task
 * keeps the connector's own name; one of several also names its task count, so that each count is
 * a generation of its own: a task of the new count can fence every id of the old one
 * (source-generations.ts) without fencing a task of its own count that started before it, and
 * never overwrites a position of the old count. Keyed by index alone, task 0 of four would replace
 * what task 0 of two stored for every table it held, and the new owner of those tables, started a
 * moment later, would find no position for them and read them again from the start.
 */
export const positionKey = (connector: string, task: TaskRef): string => (task.count === 1 ? connector : `${connector}#${task.index}/${task.count}`);

export const transactionalId = (connector: string, task: TaskRef): string => `liberator-${positionKey(connector, task)}`;

/** The connector's name of a task key or a position key (`#<i>` before task counts named their generation). */
export const connectorOfTask = (key: string): string => key.replace(/#\d+(?:\/\d+)?$/, "");

export function tasksOf(count: number): TaskRef[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/**
 * How many tasks the connector runs as now. `auto`: a sink, one per partition of its topics that
 * exist (or, while none does, of the topics it names, at the partitions a source creates them
 * with); a source, what its type says.
 */
export async function taskCount(connector: ConnectorConfig, kafka: { admin(): Admin; partitions: number }): Promise<number> {
  const tasks = connector.config.tasks;
  if (tasks !== "auto") return tasks;
  const spec = connector.spec;
  if (spec.kind === "source") return Math.max(1, spec.autoTasks?.(connector.config) ?? 1);
  const entries = spec.topics(connector.config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics, missing } = await listResolvedTopics(admin, entries);
    const existing = topics.length === 0 ? 0 : (await admin.fetchTopicMetadata({ topics })).topics.reduce((n, t) => n + t.partitions.length, 0);
    const named = missing.filter((e) => !e.includes("*")).length;
    return Math.max(1, existing + named * kafka.partitions);
  } finally {
    await admin.disconnect();
  }
}
