/** The BullMQ queue that holds one long-lived job per connector. */
export const QUEUE_NAME = "connectors";

/**
 * Job ids are a task's key (the connector's name, or `<name>#<index>` for each of several tasks)
 * with a prefix: BullMQ ids must not be integers, contain ':' or equal a queue key name such as
 * "delayed" (FACTS-bullmq.md, "Ids and cost"); connector names may be any of those but never
 * contain ':' or '#'.
 */
export const connectorJobId = (key: string): string => `connector-${key}`;

/** The task key of a connector job's id. */
export const taskOfJob = (jobId: string): string => jobId.replace(/^connector-/, "");

/** Liberator's own keys and channels beside BullMQ's (`<prefix>:connectors:*`). */
export function clusterKeys(prefix: string) {
  return {
    /** Sorted set: worker id → the time (ms) its membership lapses unless renewed. */
    members: `${prefix}:members`,
    /** Hash: worker id → MemberInfo as JSON. */
    memberInfo: `${prefix}:member-info`,
    /** Hash: task key (a connector's name when it runs as one task) → id of the worker running it. */
    owners: `${prefix}:owners`,
    /** Channel on which a worker takes requests. */
    control: (workerId: string) => `${prefix}:control:${workerId}`,
    /** Channel on which a worker (or the CLI) gets the answers to its requests. */
    replies: (clientId: string) => `${prefix}:replies:${clientId}`,
  };
}

export type ClusterKeys = ReturnType<typeof clusterKeys>;
