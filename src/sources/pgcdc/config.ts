import { z } from "zod";
import { bool, databaseConnection, duration, int, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import { columnPolicyField, hashKeyField } from "../../runtime/sql-types/column-policy.js";

/** Per-table settings, keyed by "schema.table". */
const tableSettings = z.strictObject({
  keyColumns: stringList().optional().describe("the key of a table without a primary key; without it its records have a null key"),
  columns: columnPolicyField(),
});

/** Slot and publication names: PostgreSQL's rules for slots (lower case, digits, underscore). */
const slotName = () => z.string().regex(/^[a-z0-9_]{1,63}$/, "must be 1 to 63 lower-case letters, digits or '_'");

export const pgcdcConfig = connectorSchema({
  connection: databaseConnection(5432),
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")
    .optional()
    .meta({ defaultText: "the connector name", description: "topics are `<topicPrefix>.<schema>.<table>`; characters Kafka refuses become `_`" }),
  include: stringList().default(["public.*"]).describe("`schema.table` patterns (`*`, `?`) of the connection's database; `pg_catalog`, `information_schema` and `pg_toast` are never captured"),
  exclude: stringList().default([]).describe("patterns left out even when included"),
  tables: z
    .record(z.string().regex(/^[^.]+\.[^.]+$/, 'keys are "schema.table"'), tableSettings)
    .default({})
    .meta({ keyName: "schema.table" }),
  hashKey: hashKeyField(),
  slot: z
    .strictObject({
      name: slotName().optional().meta({ defaultText: "`liberator_<connector>`", description: "the logical replication slot (lower-case letters, digits, `_`)" }),
    })
    .default({}),
  publication: z
    .strictObject({
      name: slotName().optional().meta({ defaultText: "`liberator_<connector>`", description: "the publication the slot reads" }),
      create: z
        .enum(["filtered", "all", "never"])
        .default("filtered")
        .describe(
          "`filtered`: created `FOR TABLE` the captured tables and set to them again at every start, so tables added to `include` are published (needs ownership of the tables). `all`: created `FOR ALL TABLES` (needs a superuser). `never`: used as it is",
        ),
    })
    .default({ create: "filtered" }),
  snapshot: z
    .strictObject({
      mode: z
        .enum(["initial", "never", "when_needed", "initial_only"])
        .default("initial")
        .describe(
          "`initial`: copy, then stream. `never`: stream from the slot's position (the slot is created now when missing). `when_needed`: like initial, and copy again when the slot is gone or invalidated. `initial_only`: copy and finish",
        ),
      chunkSize: int(1, 1_000_000)
        .default(10_000)
        .describe("rows per primary-key chunk at most; one chunk is one Kafka transaction. Wide rows make chunks smaller: a chunk stays near `batch.maxBytes` of row data"),
      maxRowsPerSecond: int(0).default(0).describe("pace of the copy, so the database keeps serving; 0: no limit"),
    })
    .default({ mode: "initial", chunkSize: 10_000, maxRowsPerSecond: 0 }),
  heartbeat: z
    .strictObject({
      intervalMs: duration()
        .default(10_000)
        .describe("a logical message goes through the slot this often, so its confirmed position moves while the captured tables are idle and the rest of the database is busy; 0 turns heartbeats off"),
      warnRetainedBytes: int(0)
        .default(1024 * 1024 * 1024)
        .describe("a warning is logged when the slot's retained WAL (`liberator_source_retained_bytes`) rises above this many bytes, and a note when it is back under; 0: never"),
    })
    .default({ intervalMs: 10_000, warnRetainedBytes: 1024 * 1024 * 1024 }),
  statusIntervalMs: duration().default(10_000).describe("how often the confirmed position is sent to the server when nothing else is"),
  maxTransactionRecords: int(1000)
    .default(200_000)
    .describe("a source transaction with more records is split across Kafka transactions (logged), so memory stays bounded; below it a transaction is never split"),
  maxQueuedBytes: int(1024 * 1024).default(8 * 1024 * 1024).describe("bytes of replication messages read ahead of Kafka before reading pauses (the server keeps the WAL)"),
  emitTruncate: bool().default(true).describe("TRUNCATE as an `op: \"t\"` record with a null key (which a compacted topic refuses)"),
});

export type PgcdcConfig = z.infer<typeof pgcdcConfig>;

const sanitized = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 53);

export const slotOf = (config: Pick<PgcdcConfig, "slot" | "name">): string => config.slot.name ?? `liberator_${sanitized(config.name)}`;

export const publicationOf = (config: Pick<PgcdcConfig, "publication" | "name">): string => config.publication.name ?? `liberator_${sanitized(config.name)}`;
