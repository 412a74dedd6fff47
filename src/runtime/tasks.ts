/**
 * A connector runs as one or more tasks (`tasks: N | auto`). Each task is a runner of its own: in
 * one process, N runners side by side; in a cluster, one BullMQ job per task, taken by whichever
 * worker. A task is named by its key: the connector's name for a single task (so everything keyed
 * by name before tasks existed, jobs, owners, offsets, stays as it was), `<name>#<index>` otherwise
 * (`#` cannot appear in a connector's name).
 */
import { createHash } from "node:crypto";
import type { Admin } from "kafkajs";
import type { TaskRef } from "./connector.js";
import type { ConnectorConfig } from "./config/load.js";
import { listResolvedTopics } from "./kafka/topics.js";

export const SINGLE_TASK: TaskRef = Object.freeze({ index: 0, count: 1 });

export const taskKey = (connector: string, task: TaskRef): string => (task.count === 1 ? connector : `${connector}#${task.index}`);

/**
 * A generation of a source's tasks: how many, and for several, a digest of how its work is split
 * among them (the query source's streams, in order). Task `i` of another count, or of the same
 * count over another list of tables, may hold other tables than task `i` of this one.
 */
export interface Generation {
  count: number;
  split?: string;
}

/** The generation a connector's tasks run as with `count` tasks: its split's digest only when it has several. */
export function generationOf(connector: ConnectorConfig, count: number): Generation {
  const spec = connector.spec;
  const split = count > 1 && spec.kind === "source" ? spec.splitOf?.(connector.config) : undefined;
  return split === undefined ? { count } : { count, split: createHash("sha256").update(split).digest("hex").slice(0, 8) };
}

/**
 * What a source task's position is stored under, and its Kafka transactional id's tail. One task
 * keeps the connector's own name; one of several also names its generation (`<name>#<i>/<N>.<split>`),
 * so that a task of a new generation can fence every id of the one before (source-generations.ts)
 * without fencing a task of its own that started before it, and never overwrites a position of the
 * one before. Keyed by index alone, task 0 of four replaced what task 0 of two stored for every
 * table it held, and the new owner of those tables, started a moment later, found no position for
 * them and read them again from the start.
 */
export const positionKey = (connector: string, generation: Generation, index: number): string =>
  generation.count === 1 ? connector : `${connector}#${index}/${generation.count}${generation.split === undefined ? "" : `.${generation.split}`}`;

export const transactionalId = (connector: string, generation: Generation, index: number): string => `liberator-${positionKey(connector, generation, index)}`;

/** The connector's name of a task key or a position key (`#<i>` alone before keys named their generation). */
export const connectorOfTask = (key: string): string => key.replace(/#\d+(?:\/\d+(?:\.[0-9a-f]+)?)?$/, "");

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
