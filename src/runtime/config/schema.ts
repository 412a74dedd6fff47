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
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/, "must be letters, digits, '.', '_' or '-' (it names topics and the transactional id)"),
  type: z.string(),
  enabled: bool().default(true),
  errors: z
    .strictObject({
      /** none: stop at a bad record; all: send it to the dead-letter topic and go on. */
      tolerance: z.enum(["none", "all"]).default("none"),
      deadLetterTopic: z.string().optional(),
    })
    .default({ tolerance: "none" }),
  retry: z
    .strictObject({
      /**
       * Attempts after a transient failure before the connector is marked failed; unset (the
       * default) retries for as long as the fault lasts.
       */
      retries: int(0).optional(),
      initialDelayMs: duration().default(500),
      /** The cap of the backoff, and so how long a connector may take to notice that a fault is over. */
      maxDelayMs: duration().default(10_000),
      /**
       * A connector failed on an error that may pass (an unclassified one, or a transient one once
       * `retries` ran out) is started again after this backoff; data and configuration errors are final.
       */
      restartFailed: z
        .strictObject({ initialDelayMs: duration().default(60_000), maxDelayMs: duration().default(1_800_000) })
        .default({ initialDelayMs: 60_000, maxDelayMs: 1_800_000 }),
    })
    .default({ initialDelayMs: 500, maxDelayMs: 10_000, restartFailed: { initialDelayMs: 60_000, maxDelayMs: 1_800_000 } }),
  batch: z
    .strictObject({
      maxRecords: int(1).default(10_000),
      maxBytes: int(1024).default(8 * 1024 * 1024),
      /**
       * Sinks: how long Kafka may hold a fetch back for more records before the sink writes what
       * there is (fewer, larger target transactions at low rates; that much more latency). 0: a
       * batch is written as soon as any record is there (the default).
       */
      lingerMs: duration().optional(),
    })
    .default({ maxRecords: 10_000, maxBytes: 8 * 1024 * 1024 }),
});

export type ConnectorBase = z.infer<typeof connectorBaseSchema>;

export const rootSchema = z.strictObject({
  kafka: kafkaConfigSchema,
  schemaRegistry: schemaRegistryConfig.prefault({}),
  admin: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: port().default(8083),
      enabled: bool().default(true),
      /** Bearer token for the admin API (use ${file:…}); when set, every request but the probes and /metrics needs it. */
      token: z.string().optional(),
      /** Without a token: "token" refuses requests that change anything, "none" allows them. */
      auth: z.enum(["token", "none"]).default("token"),
    })
    .default({ host: "127.0.0.1", port: 8083, enabled: true, auth: "token" }),
  log: z
    .strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info") })
    .default({ level: "info" }),
  shutdown: z
    .strictObject({ gracePeriodMs: duration().default(10_000) })
    .default({ gracePeriodMs: 10_000 }),
  /** Several workers sharing the connectors through Redis; without it this process runs them all. */
  cluster: clusterConfigSchema.optional(),
  metrics: z
    .strictObject({
      /** How often a sink's consumer lag is read from Kafka (end offsets against the group's committed offsets). */
      lagIntervalMs: duration().default(10_000),
    })
    .default({ lagIntervalMs: 10_000 }),
  health: z
    .strictObject({
      /**
       * /readyz turns unready once a connector has been retrying longer than this; 0 (the default):
       * at its first failed attempt. A sidecar whose pod must stay in service through a broker
       * restart sets it to minutes.
       */
      maxRetryingMs: duration().default(0),
    })
    .default({ maxRetryingMs: 0 }),
  reload: z
    .strictObject({
      /** Reload when the config file changes, as on SIGHUP (a Kubernetes ConfigMap update, an edit). */
      watch: bool().default(false),
    })
    .default({ watch: false }),
  /** Stream metadata: owner, description, deprecation, PII and financial fields (docs/governance.md). */
  streams: streamsConfigSchema.prefault({}),
  /** The stream catalog and schema-change topics, Kafka ACLs and quotas (docs/governance.md). */
  governance: governanceConfigSchema.prefault({}),
  connectors: z.array(z.unknown()).default([]),
});

export type RootConfig = z.infer<typeof rootSchema>;
