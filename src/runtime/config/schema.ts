import { z } from "zod";
import { clusterConfigSchema } from "../cluster/config.js";
import { governanceConfigSchema, streamsConfigSchema } from "../governance/config.js";
import { kafkaConfigSchema } from "../kafka/config.js";
import { schemaRegistryConfig } from "../schema-registry/config.js";
import { bool, duration, int, port } from "./fields.js";

/** Fields every connector has, whatever its type; the type's own fields are merged in by the loader. */
export const connectorBaseSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/, "must be letters, digits, '.', '_' or '-' (it names topics and the transactional id)")
    .describe("the connector's name, unique: it names its topics, its transactional id `liberator-<name>` and its consumer group"),
  type: z.string().describe("`binlog`, `query`, `outbox`, `generator` (sources), `sql`, `bullmq` (sinks)"),
  enabled: bool().default(true).describe("`false` keeps the connector in the file without running it"),
  tasks: z
    .union([int(1), z.literal("auto")])
    .default(1)
    .describe(
      "how many task instances run the connector, side by side in one process or spread over the workers of a cluster: a sink's tasks share its topics' partitions (`auto`: one per partition); a source splits only if its type can (its page says how)",
    ),
  errors: z
    .strictObject({
      tolerance: z
        .enum(["none", "all"])
        .default("none")
        .describe("`none`: stop at a bad record; `all`: send it to the dead-letter topic and go on"),
      deadLetterTopic: z.string().optional().meta({ defaultText: "`_liberator_dlq.<connector>`", description: "where bad records go under `tolerance: all`" }),
    })
    .default({ tolerance: "none" }),
  retry: z
    .strictObject({
      retries: int(0)
        .optional()
        .meta({
          defaultText: "no limit",
          description: "attempts after a transient failure before the connector is marked failed; unset, it retries for as long as the fault lasts",
        }),
      initialDelayMs: duration().default(500).describe("the first backoff after a transient failure; it doubles, with jitter"),
      maxDelayMs: duration().default(10_000).describe("the cap of the backoff, and so how long a connector may take to notice that a fault is over"),
      restartFailed: z
        .strictObject({
          initialDelayMs: duration()
            .default(60_000)
            .describe(
              "a connector failed on an error that may pass (an unclassified one, or a transient one once `retries` ran out) is started again after this backoff, doubling; data and configuration errors are final",
            ),
          maxDelayMs: duration().default(1_800_000).describe("the cap of that backoff"),
        })
        .default({ initialDelayMs: 60_000, maxDelayMs: 1_800_000 }),
    })
    .default({ initialDelayMs: 500, maxDelayMs: 10_000, restartFailed: { initialDelayMs: 60_000, maxDelayMs: 1_800_000 } }),
  batch: z
    .strictObject({
      maxRecords: int(1).default(10_000).describe("records in one batch at most: one Kafka transaction (sources), one target transaction (sinks)"),
      maxBytes: int(1024).default(8 * 1024 * 1024).describe("bytes of record data in one batch at most"),
      lingerMs: duration()
        .optional()
        .meta({
          defaultText: "0",
          description:
            "sinks: how long Kafka may hold a fetch back for more records before the sink writes what there is (fewer, larger target transactions at low rates; that much more latency). 0: a batch is written as soon as any record is there",
        }),
    })
    .default({ maxRecords: 10_000, maxBytes: 8 * 1024 * 1024 }),
});

export type ConnectorBase = z.infer<typeof connectorBaseSchema>;

export const rootSchema = z.strictObject({
  kafka: kafkaConfigSchema,
  schemaRegistry: schemaRegistryConfig.prefault({}),
  admin: z
    .strictObject({
      host: z.string().default("127.0.0.1").describe("the admin API's address (`0.0.0.0` in a container)"),
      port: port().default(8083).describe("its port: `/healthz`, `/readyz`, `/metrics`, `/connectors`, the schema registry API"),
      enabled: bool().default(true).describe("`false`: no admin API"),
      token: z
        .string()
        .optional()
        .describe("bearer token for the admin API (use `${file:…}`); when set, every request but the probes and `/metrics` needs it"),
      auth: z.enum(["token", "none"]).default("token").describe("without a token: `token` refuses requests that change anything, `none` allows them"),
    })
    .default({ host: "127.0.0.1", port: 8083, enabled: true, auth: "token" }),
  log: z
    .strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info").describe("pino's level") })
    .default({ level: "info" }),
  shutdown: z
    .strictObject({
      gracePeriodMs: duration().default(10_000).describe("after SIGTERM, how long in-flight batches may take to commit before the process exits"),
    })
    .default({ gracePeriodMs: 10_000 }),
  /** Several workers sharing the connectors through Redis; without it this process runs them all. */
  cluster: clusterConfigSchema.optional(),
  metrics: z
    .strictObject({
      lagIntervalMs: duration()
        .default(10_000)
        .describe("how often a sink's consumer lag is read from Kafka (end offsets against the group's committed offsets)"),
    })
    .default({ lagIntervalMs: 10_000 }),
  health: z
    .strictObject({
      maxRetryingMs: duration()
        .default(0)
        .describe(
          "`/readyz` turns unready once a connector has been retrying longer than this; 0: at its first failed attempt. A sidecar whose pod must stay in service through a broker restart sets it to minutes",
        ),
    })
    .default({ maxRetryingMs: 0 }),
  reload: z
    .strictObject({
      watch: bool().default(false).describe("reload when the config file changes, as on SIGHUP (a Kubernetes ConfigMap update, an edit)"),
    })
    .default({ watch: false }),
  /** Stream metadata: owner, description, deprecation, PII and financial fields (docs/governance.md). */
  streams: streamsConfigSchema.prefault({}),
  /** The stream catalog and schema-change topics, Kafka ACLs and quotas (docs/governance.md). */
  governance: governanceConfigSchema.prefault({}),
  connectors: z.array(z.unknown()).default([]),
});

export type RootConfig = z.infer<typeof rootSchema>;
