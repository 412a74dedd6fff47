import { z } from "zod";
import { bool, duration, int } from "../config/fields.js";

const atLeast = (min: number) => duration().pipe(z.number().min(min));

/**
 * `cluster:` in connectors.yaml. Without it one process runs every connector. With it, workers
 * sharing the Redis and the prefix share the connectors: each connector is one long-lived BullMQ
 * job (docs/operations.md, FACTS-bullmq.md for the timings).
 */
export const clusterConfigSchema = z.strictObject({
  /** redis:// or rediss:// URL; a password goes in as ${file:…}. Redis must run with maxmemory-policy noeviction. */
  redis: z.string().regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0"),
  /** Prefix of every key and channel; workers with the same prefix form one cluster. Use {braces} on Redis Cluster. */
  queuePrefix: z
    .string()
    .regex(/^[^\s:]+$/, "must be non-empty, without spaces or ':'")
    .default("liberator"),
  /** This worker's name in status, logs and metrics; the host name and process id when unset (the pod name on Kubernetes). */
  workerId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/, "must be letters, digits, '.', '_' or '-'")
    .optional(),
  /** Connectors this worker runs at most. */
  capacity: int(1).default(100),
  /**
   * How long a worker's claim on a connector lasts without renewal (renewed every half of it).
   * A crashed worker's connectors start elsewhere after lockDurationMs + up to 2 × stalledIntervalMs.
   */
  // shorter locks would lapse under ordinary event-loop pauses
  lockDurationMs: atLeast(1000).default(5000),
  /** How often workers look for connectors whose worker stopped renewing. */
  stalledIntervalMs: atLeast(200).default(3000),
  /**
   * How long an admin request waits for the worker that runs the connector to answer (restart and
   * offsets changes get shutdown.gracePeriodMs more). A frozen worker holds a request this long.
   */
  requestTimeoutMs: atLeast(100).default(2000),
  /** Move connectors to a worker that joins, so every worker runs about as many. */
  rebalance: bool().default(true),
});

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
