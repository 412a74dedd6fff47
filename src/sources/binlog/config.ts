import { z } from "zod";
import { bool, databaseConnection, duration, int, stringList, zeroDatePolicy } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import { columnPolicyField, hashKeyField } from "../../runtime/sql-types/column-policy.js";

/** Per-table settings, keyed by "database.table". */
const tableSettings = z.strictObject({
  keyColumns: stringList().optional().describe("the key of a table without a primary key; without it its records have a null key"),
  columns: columnPolicyField(),
});

export const binlogConfig = connectorSchema({
  connection: databaseConnection(3306),
  serverId: int(1, 4_294_967_295)
    .optional()
    .meta({
      defaultText: "derived from the name, 5,400,000–5,499,999",
      description:
        "the replica id this reader announces. Every reader of one server needs its own: a second reader with the same id makes the server drop the first; the derived one is stable across restarts",
    }),
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")
    .optional()
    .meta({ defaultText: "the connector name", description: "topics are `<topicPrefix>.<database>.<table>`; characters Kafka refuses become `_`" }),
  include: stringList().default(["*.*"]).describe("`database.table` patterns (`*`, `?`); the system schemas are never captured"),
  exclude: stringList().default([]).describe("patterns left out even when included"),
  tables: z
    .record(z.string().regex(/^[^.]+\.[^.]+$/, 'keys are "database.table"'), tableSettings)
    .default({})
    .meta({ keyName: "db.table" }),
  hashKey: hashKeyField(),
  snapshot: z
    .strictObject({
      mode: z
        .enum(["initial", "never", "when_needed", "initial_only"])
        .default("initial")
        .describe(
          "`initial`: copy, then stream. `never`: stream from the current end. `when_needed`: like initial, and copy again when the stored position is gone from the server. `initial_only`: copy and finish",
        ),
      locking: z
        .enum(["minimal", "none"])
        .default("minimal")
        .describe(
          "MariaDB never locks. MySQL: `minimal` holds `FLUSH TABLES WITH READ LOCK` only while the snapshot and its position are taken; `none` takes no lock, and the start position may then be off by the transactions that commit meanwhile (changes lost or doubled around the start)",
        ),
      chunkSize: int(1, 1_000_000)
        .default(10_000)
        .describe("rows per primary-key chunk at most; one chunk is one Kafka transaction. Wide rows make chunks smaller: a chunk stays near `batch.maxBytes` of row data"),
      maxRowsPerSecond: int(0).default(0).describe("pace of the copy, so the legacy database keeps serving; 0: no limit"),
      pauseAboveThreadsRunning: int(0).default(0).describe("the copy waits between chunks while `Threads_running` is above this; 0: never"),
    })
    .default({ mode: "initial", locking: "minimal", chunkSize: 10_000, maxRowsPerSecond: 0, pauseAboveThreadsRunning: 0 }),
  heartbeat: z
    .strictObject({
      intervalMs: duration().default(5_000).describe("the server sends a heartbeat when its log is idle this long; 0 turns them off"),
    })
    .default({ intervalMs: 5_000 }),
  maxTransactionRecords: int(1000)
    .default(200_000)
    .describe("a source transaction with more records is split across Kafka transactions (logged), so memory stays bounded; below it a transaction is never split"),
  maxQueuedRows: int(100).default(2_000).describe("change rows (and events, one each) read ahead of Kafka before reading pauses"),
  maxQueuedBytes: int(1024 * 1024)
    .default(8 * 1024 * 1024)
    .describe(
      "binlog bytes of the events read ahead of Kafka before reading pauses, whichever of the two limits comes first (at least 1 MiB): rows wider than 4 KB reach it before maxQueuedRows",
    ),
  zeroDates: zeroDatePolicy().describe("MySQL's zero date `0000-00-00` (and `0000-00-00 00:00:00`): `null` reads it as null, `error` stops at the first"),
  partialZeroDates: zeroDatePolicy().describe(
    "dates with a zero month, day or year (`2020-00-15`, `2020-01-00 10:00:00.5`, `0000-01-01`): `null` reads them as null, `error` stops at the first. Apart from `zeroDates`, so that nulling the zero date never nulls a partly known date unasked. Neither may make a key column null: refused at start",
  ),
  emitTruncate: bool().default(true).describe('TRUNCATE as an `op: "t"` record with a null key (which a compacted topic refuses)'),
});

export type BinlogConfig = z.infer<typeof binlogConfig>;

/** The configured server id, or a stable one derived from the connector name. */
export function serverIdOf(config: Pick<BinlogConfig, "serverId" | "name">): number {
  if (config.serverId !== undefined) return config.serverId;
  let hash = 0;
  for (const ch of config.name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return 5_400_000 + (hash % 100_000);
}
