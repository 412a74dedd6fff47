import { z } from "zod";
import { bool, databaseConnection, duration, int, stringList, zeroDatePolicy } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import { columnPolicySchema } from "../../runtime/sql-types/column-policy.js";

/** Per-table settings, keyed by "database.table". */
const tableSettings = z.strictObject({
  /** Key columns for a table without a primary key; without them its records have a null key. */
  keyColumns: stringList().optional(),
  /** Columns left out, masked or hashed (PII). */
  columns: columnPolicySchema.optional(),
});

export const binlogConfig = connectorSchema({
  connection: databaseConnection(3306),
  /**
   * The replica id this reader announces to the server. Every reader of one server needs its own:
   * a second reader with the same id makes the server drop the first. Default: derived from the
   * connector name (stable across restarts), in 5,400,000–5,499,999.
   */
  serverId: int(1, 4_294_967_295).optional(),
  /** Topics are `<topicPrefix>.<database>.<table>`; the connector name by default. */
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'").optional(),
  /** "database.table" patterns to capture (`*` any run of characters, `?` one); all user tables by default. */
  include: stringList().default(["*.*"]),
  /** "database.table" patterns left out, even when included. */
  exclude: stringList().default([]),
  tables: z.record(z.string().regex(/^[^.]+\.[^.]+$/, 'keys are "database.table"'), tableSettings).default({}),
  /** The HMAC secret for hashed columns (use `${file:…}`). */
  hashKey: z.string().min(16, "must be at least 16 characters").optional(),
  snapshot: z
    .strictObject({
      /**
       * initial: copy the tables, then stream (default). never: stream from the current end.
       * when_needed: like initial, and copy again when the stored position is gone from the server.
       * initial_only: copy the tables and finish.
       */
      mode: z.enum(["initial", "never", "when_needed", "initial_only"]).default("initial"),
      /**
       * minimal: on MySQL, hold a global read lock for the instant the start position is read
       * (MariaDB needs no lock at all). none: never lock; on MySQL the start position may then be
       * off by the transactions that commit while it is read.
       */
      locking: z.enum(["minimal", "none"]).default("minimal"),
      /** Rows per primary-key chunk; each chunk is one Kafka transaction. */
      chunkSize: int(1, 1_000_000).default(10_000),
      /** Rows per second at most (0: no limit), so a snapshot does not starve the production load. */
      maxRowsPerSecond: int(0).default(0),
      /** Waits between chunks while the server's Threads_running is above this (0: never waits). */
      pauseAboveThreadsRunning: int(0).default(0),
    })
    .default({ mode: "initial", locking: "minimal", chunkSize: 10_000, maxRowsPerSecond: 0, pauseAboveThreadsRunning: 0 }),
  heartbeat: z
    .strictObject({
      /** The server sends a heartbeat when the log is idle this long; 0 turns heartbeats off. */
      intervalMs: duration().default(5_000),
    })
    .default({ intervalMs: 5_000 }),
  /**
   * A source transaction with more records than this is split across Kafka transactions (logged),
   * so memory stays bounded; below it a transaction is never split.
   */
  maxTransactionRecords: int(1000).default(200_000),
  /** Change rows (and events) read ahead of Kafka before reading pauses (socket backpressure). */
  maxQueuedRows: int(100).default(20_000),
  /** Binlog bytes of the events read ahead of Kafka before reading pauses: bounds memory when rows are wide. */
  maxQueuedBytes: int(1024 * 1024).default(8 * 1024 * 1024),
  /** MySQL's zero date ("0000-00-00"): read as null, or stop with an error (default). */
  zeroDates: zeroDatePolicy(),
  /** Dates with a zero month, day or year ("2020-00-15", "0000-01-01"): read as null, or stop with an error (default). */
  partialZeroDates: zeroDatePolicy(),
  /** TRUNCATE as an `op: "t"` record (with a null key, which a compacted topic refuses). */
  emitTruncate: bool().default(true),
});

export type BinlogConfig = z.infer<typeof binlogConfig>;

/** The configured server id, or a stable one derived from the connector name. */
export function serverIdOf(config: Pick<BinlogConfig, "serverId" | "name">): number {
  if (config.serverId !== undefined) return config.serverId;
  let hash = 0;
  for (const ch of config.name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return 5_400_000 + (hash % 100_000);
}
