import { z } from "zod";
import { bool, duration, int } from "../config/fields.js";

const atLeast = (min: number) => duration().pipe(z.number().min(min));

/**
 * `cluster:` in connectors.yaml. Without it one process runs every connector. With it, workers
 * sharing the Redis and the prefix share the connectors: each connector is one long-lived BullMQ
 * job (docs/operations.md, FACTS-bullmq.md for the timings).
 */
export const clusterConfigSchema = z.strictObject({
  redis: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0")
    .describe("`redis://` or `rediss://` URL (TLS); put the password in through `${file:…}`. Redis must run with `maxmemory-policy noeviction`"),
  queuePrefix: z
    .string()
    .regex(/^[^\s:]+$/, "must be non-empty, without spaces or ':'")
    .default("liberator")
    .describe("prefix of every key and channel; workers with the same Redis and prefix form one cluster. On Redis Cluster use braces, e.g. `{liberator}`"),
  workerId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/, "must be letters, digits, '.', '_' or '-'")
    .optional()
    .meta({ defaultText: "host name and process id", description: "this worker's name in status, logs and metrics (`${POD_NAME}` on Kubernetes)" }),
  capacity: int(1).default(100).describe("connectors this worker runs at most"),
  // shorter locks would lapse under ordinary event-loop pauses
  lockDurationMs: atLeast(1000)
    .default(5000)
    .describe(
      "how long a claim lasts without renewal (renewed every half of it); at least 1000. A crashed worker's connectors start elsewhere after this and up to 2 × `stalledIntervalMs`. Shorter fails over faster and costs more Redis calls (about 12 × connectors ÷ seconds per second)",
    ),
  stalledIntervalMs: atLeast(200).default(3000).describe("how often workers look for connectors whose worker stopped renewing; at least 200"),
  requestTimeoutMs: atLeast(100)
    .default(2000)
    .describe("how long an admin call waits for the worker that runs the connector (restart and offsets changes get `shutdown.gracePeriodMs` more); a frozen worker holds a call this long"),
  rebalance: bool().default(true).describe("hand connectors to a worker that joins, so every worker runs about as many"),
});

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
