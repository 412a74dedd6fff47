import { z } from "zod";
import { bool, databaseConnection, dialectPort, int, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";

const DEFAULT_PORT: Record<Dialect, number> = { postgres: 5432, mysql: 3306 };

export const sqlSinkConfig = connectorSchema({
  dialect: z.enum(["postgres", "mysql", "mariadb"]).describe("`postgres`, or `mysql` (`mariadb` is the same)"),
  connection: databaseConnection(0).extend({
    port: dialectPort(),
    database: z.string().optional().describe("the database written into (required for MySQL/MariaDB)"),
  }),
  topics: stringList()
    .pipe(z.array(z.string().min(1)).min(1, "needs at least one topic"))
    .describe(
      "the topics to read, a list or `a,b,c`; an entry with `*` is a pattern (`shop.*` matches `shop.shop.orders` and every topic of that prefix created later; `*` spans dots, and matches no internal topic starting with `_` unless the pattern does)",
    ),
  table: z
    .string()
    .min(1)
    .default("{table}")
    .describe(
      "the target table, a pattern: `{table}` is the source table (the envelope's `source.table`, else the topic's last segment; a query source's PostgreSQL table comes as `schema.table`, whose schema a PostgreSQL target keeps and a MySQL/MariaDB target leaves out), `{db}` the source database (`source.db`, else the topic's second-to-last segment), `{topic}` the whole topic with characters other than letters, digits and `_` made `_`. `schema.{table}` (PostgreSQL) or `database.{table}` (MySQL) qualifies it.",
    ),
  mode: z
    .enum(["insert", "upsert", "update"])
    .default("upsert")
    .describe(
      "`insert`: INSERT only (a key that exists is an error); `upsert`: insert, or replace the row with the same key; `update`: UPDATE by key only, a row that is not there is not created",
    ),
  deletes: bool().default(true).describe("a delete event (`op: d`) and a tombstone delete the row by its key; `false` skips them"),
  truncates: bool().default(false).describe("a truncate event (`op: t`) deletes every row of the table, inside the batch's transaction; `false` skips it"),
  keyColumns: stringList()
    .optional()
    .meta({ defaultText: "the record key's columns", description: "the key of every target table; without it, the record key's fields, else the existing table's primary key" }),
  autoCreate: bool().default(true).describe("create a missing table from the stream's schema, its key as primary key"),
  autoEvolve: bool().default(true).describe("add the columns the stream has and the table lacks, always nullable"),
  offsetsTable: z
    .string()
    .regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, "must be a table name, optionally qualified: [schema.]name")
    .default("liberator_offsets")
    .describe("where offsets and the epoch live (`[schema.]name`), created if missing"),
  maxStatementBytes: int(64 * 1024, 1024 * 1024 * 1024)
    .default(4 * 1024 * 1024)
    .describe(
      "one statement carries at most about this many bytes of values (MariaDB's `max_allowed_packet` is 16 MB by default); a batch is cut into several statements of one transaction",
    ),
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
