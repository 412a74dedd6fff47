import { z } from "zod";
import { bool, databaseConnection, duration, int, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import { columnPolicySchema } from "../../runtime/sql-types/column-policy.js";

/** Per-table settings, keyed by "schema.table". */
const tableSettings = z.strictObject({
  /** Key columns for a table without a primary key; without them its records have a null key. */
  keyColumns: stringList().optional(),
  /** Columns left out, masked or hashed (PII). */
  columns: columnPolicySchema.optional(),
});

/** Slot and publication names: PostgreSQL's rules for slots (lower case, digits, underscore). */
const slotName = z.string().regex(/^[a-z0-9_]{1,63}$/, "must be 1 to 63 lower-case letters, digits or '_'");

export const pgcdcConfig = connectorSchema({
  /** `database` is the one database captured (a slot belongs to one database); "postgres" by default. */
  connection: databaseConnection(5432),
  /** Topics are `<topicPrefix>.<schema>.<table>`; the connector name by default. */
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'").optional(),
  /** "schema.table" patterns to capture (`*` any run of characters, `?` one); every table of `public` by default. */
  include: stringList().default(["public.*"]),
  /** "schema.table" patterns left out, even when included. */
  exclude: stringList().default([]),
  tables: z.record(z.string().regex(/^[^.]+\.[^.]+$/, 'keys are "schema.table"'), tableSettings).default({}),
  /** The HMAC secret for hashed columns (use `${file:…}`). */
  hashKey: z.string().min(16, "must be at least 16 characters").optional(),
  /** The logical replication slot; `liberator_<connector>` by default. */
  slot: z.strictObject({ name: slotName.optional() }).default({}),
  publication: z
    .strictObject({
      /** `liberator_<connector>` by default. */
      name: slotName.optional(),
      /**
       * filtered: create it FOR TABLE the captured tables, and follow the config at every start
       * (needs ownership of the tables). all: create it FOR ALL TABLES (needs a superuser).
       * never: use it as it is; a DBA made it.
       */
      create: z.enum(["filtered", "all", "never"]).default("filtered"),
    })
    .default({ create: "filtered" }),
  snapshot: z
    .strictObject({
      /**
       * initial: copy the tables, then stream (default). never: stream from the slot's position.
       * when_needed: like initial, and copy again when the slot is gone or invalidated.
       * initial_only: copy the tables and finish.
       */
      mode: z.enum(["initial", "never", "when_needed", "initial_only"]).default("initial"),
      /** Rows per primary-key chunk; each chunk is one Kafka transaction. */
      chunkSize: int(1, 1_000_000).default(10_000),
      /** Rows per second at most (0: no limit), so a snapshot does not starve the production load. */
      maxRowsPerSecond: int(0).default(0),
    })
    .default({ mode: "initial", chunkSize: 10_000, maxRowsPerSecond: 0 }),
  heartbeat: z
    .strictObject({
      /**
       * Every so often a logical message (pg_logical_emit_message) goes through the slot, so its
       * confirmed position moves while the captured tables are idle and the rest of the database
       * is busy; 0 turns heartbeats off (the slot then holds WAL until a captured table changes).
       */
      intervalMs: duration().default(10_000),
      /** Retained WAL (bytes the slot holds) above which a warning is logged. */
      warnRetainedBytes: int(0).default(1024 * 1024 * 1024),
    })
    .default({ intervalMs: 10_000, warnRetainedBytes: 1024 * 1024 * 1024 }),
  /** How often the confirmed position is sent to the server even when nothing changed. */
  statusIntervalMs: duration().default(10_000),
  /**
   * A source transaction with more records than this is split across Kafka transactions (logged),
   * so memory stays bounded; below it a transaction is never split.
   */
  maxTransactionRecords: int(1000).default(200_000),
  /** Bytes of replication messages read ahead of Kafka before reading pauses (socket backpressure). */
  maxQueuedBytes: int(1024 * 1024).default(8 * 1024 * 1024),
  /** TRUNCATE as an `op: "t"` record (with a null key, which a compacted topic refuses). */
  emitTruncate: bool().default(true),
});

export type PgcdcConfig = z.infer<typeof pgcdcConfig>;

const sanitized = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 53);

export const slotOf = (config: Pick<PgcdcConfig, "slot" | "name">): string => config.slot.name ?? `liberator_${sanitized(config.name)}`;

export const publicationOf = (config: Pick<PgcdcConfig, "publication" | "name">): string => config.publication.name ?? `liberator_${sanitized(config.name)}`;
