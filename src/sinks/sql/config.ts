import { z } from "zod";
import { bool, databaseConnection, int, port, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";

const DEFAULT_PORT: Record<Dialect, number> = { postgres: 5432, mysql: 3306 };

export const sqlSinkConfig = connectorSchema({
  /** The target database: PostgreSQL, or MySQL/MariaDB ("mariadb" is an alias of "mysql"). */
  dialect: z.enum(["postgres", "mysql", "mariadb"]),
  /** The default port follows the dialect (5432 or 3306). MySQL/MariaDB needs `database`. */
  connection: databaseConnection(0).extend({ port: port().optional() }),
  /** The topics the sink reads; an entry with `*` is a pattern (runtime/kafka/topics.ts), followed as topics appear. */
  topics: stringList().pipe(z.array(z.string().min(1)).min(1, "needs at least one topic")),
  /**
   * The target table of a record, as a pattern: {table} is the source table (the envelope's
   * source.table, else the topic's last segment), {db} the source database (source.db, else the
   * topic's second-to-last segment), {topic} the whole topic with characters other than letters,
   * digits and _ turned into _. "schema.{table}" (PostgreSQL) or "database.{table}" (MySQL)
   * qualifies it.
   */
  table: z.string().min(1).default("{table}"),
  /** insert: INSERT only; upsert: insert or replace by key; update: UPDATE by key only. */
  mode: z.enum(["insert", "upsert", "update"]).default("upsert"),
  /** Deletes (op d) and tombstones delete the row by key; false skips them. */
  deletes: bool().default(true),
  /** A truncate (op t) deletes every row of the table, in the batch's transaction; false skips it. */
  truncates: bool().default(false),
  /** The key columns of every target table; by default the columns of the record key, else the table's primary key. */
  keyColumns: stringList().optional(),
  /** Create a missing table from the record's schema, with the key as primary key. */
  autoCreate: bool().default(true),
  /** Add columns that the record's schema has and the table lacks (always nullable). */
  autoEvolve: bool().default(true),
  /** Where the sink keeps its offsets and epoch, in the target database. */
  offsetsTable: z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, "must be a table name, optionally qualified: [schema.]name").default("liberator_offsets"),
  /**
   * One statement carries at most this many bytes of values (MariaDB's max_allowed_packet is
   * 16 MB by default); a batch is cut into several statements of one transaction.
   */
  maxStatementBytes: int(64 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
})
  .superRefine((c, ctx) => {
    if (c.dialect !== "postgres" && !c.connection.database) {
      ctx.addIssue({ code: "custom", path: ["connection", "database"], message: "is required for MySQL/MariaDB: the database the sink writes into" });
    }
  })
  .transform((c) => {
    const dialect: Dialect = c.dialect === "postgres" ? "postgres" : "mysql";
    return { ...c, dialect, connection: { ...c.connection, port: c.connection.port ?? DEFAULT_PORT[dialect] } };
  });

export type SqlSinkConfig = z.infer<typeof sqlSinkConfig>;
