import { z } from "zod";
import { databaseConnection, dialectPort, duration, int, stringList, zeroDatePolicy, type DatabaseConnection } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";

export const MODES = ["bulk", "incrementing", "timestamp", "timestamp+incrementing"] as const;
export type Mode = (typeof MODES)[number];

const columnName = () => z.string().min(1);

/** What a table entry, a custom query and the connector itself may each set; the most specific wins. */
const streamOptions = {
  mode: z
    .enum(MODES)
    .optional()
    .meta({ defaultText: "(required here or per table)", description: "`bulk`, `incrementing`, `timestamp`, `timestamp+incrementing` ([modes](#modes))" }),
  incrementingColumn: columnName()
    .optional()
    .meta({ defaultText: "the table's one-column integer primary key", description: "an integer that only grows (AUTO_INCREMENT, a sequence)" }),
  timestampColumn: columnName()
    .optional()
    .meta({ defaultText: "(required in the timestamp modes)", description: "DATETIME/TIMESTAMP (PostgreSQL timestamp/timestamptz) set on every insert and update" }),
  createdColumn: columnName().optional().describe("date-time set once on insert: tells `c` from `u`"),
  keyColumns: stringList()
    .optional()
    .meta({
      defaultText: "the primary key",
      description: "the record key (and the order of `bulk`) of a table without a primary key or a custom query; without any, records have a null key",
    }),
  softDelete: z
    .strictObject({
      column: columnName(),
      value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    })
    .optional()
    .describe("`{ column, value? }`: rows whose column holds `value` (any non-NULL value without one) become a delete and a tombstone"),
  columns: z
    .union([z.strictObject({ include: stringList() }), z.strictObject({ exclude: stringList() })])
    .optional()
    .meta({ defaultText: "all", description: "`{ include: [...] }` (new columns are ignored) or `{ exclude: [...] }` (new columns are read)" }),
};

const tableEntry = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    ...streamOptions,
  }),
]);

const queryEntry = z.strictObject({
  /** A SELECT; Liberator wraps it as a derived table and adds the incremental predicate, order and limit. */
  sql: z.string().min(1),
  topic: z.string().min(1),
  /** Names the stream in `source.table`, logs and metrics; the topic's last part by default. */
  name: z.string().min(1).optional(),
  ...streamOptions,
});

const connection = databaseConnection(3306).extend({ port: dialectPort() });

const schema = connectorSchema({
  dialect: z.enum(["mysql", "mariadb", "postgres"]).describe("`mysql`, `mariadb` (the same) or `postgres`"),
  connection,
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-' (it starts topic names)")
    .optional()
    .meta({ defaultText: "the connector name", description: "topics are `<topicPrefix>.<database or schema>.<table>`" }),
  tables: z
    .array(tableEntry)
    .default([])
    .describe(
      "`database.table` (MySQL) or `schema.table` (PostgreSQL; a bare name is `public`, on MySQL `connection.database`), or `{ name, …options }` with any of the stream options below",
    ),
  query: queryEntry.optional().describe("one custom query: `{ sql, topic, name?, …options }` ([below](#custom-query))"),
  ...streamOptions,
  pollIntervalMs: duration().default(1000).describe("how often a caught-up table is asked for new rows (`\"5s\"`, `\"1m\"` work too)"),
  batchSize: int(1, 1_000_000).default(10_000).describe("rows per page; also capped by `batch.maxRecords`. One page is one Kafka transaction"),
  delayMs: duration().default(1000).describe("rows are read once they are this old by the database clock; see [the safe horizon](#the-safe-horizon)"),
  timeZone: z
    .string()
    .min(1)
    .optional()
    .meta({
      defaultText: "the database's default zone",
      description:
        "zone of DATETIME / `timestamp without time zone` values (MySQL: a name needs the time zone tables, an offset like `+01:00` does not; PostgreSQL: an IANA name)",
    }),
  deletes: z
    .strictObject({
      detect: z.enum(["none", "checksum"]).default("none").describe("`checksum`: find hard deletes ([below](#hard-deletes))"),
      intervalMs: duration().default(600_000).describe("time between two passes"),
      maxStateBytes: int(4096, 8 * 1024 * 1024).default(512 * 1024).describe("cap on the key set carried in the position"),
    })
    .prefault({}),
  mapping: z
    .strictObject({
      zeroDates: zeroDatePolicy().describe("MySQL's zero date `0000-00-00`: `error` stops, `null` reads it as NULL (and makes date fields nullable)"),
      partialZeroDates: zeroDatePolicy().describe(
        "MySQL dates with a zero month, day or year (`2020-00-15`, `0000-01-01`): `error` stops, `null` reads them as NULL. Neither setting may make a key column null: refused at start",
      ),
    })
    .prefault({}),
  maxRowsPerSecond: int(0).default(0).describe("pace of all reads together; 0: no limit"),
  busy: z
    .strictObject({
      maxThreadsRunning: int(0)
        .default(0)
        .describe("pause while MySQL's `Threads_running` (PostgreSQL: active backends) is above this; 0: off"),
      pauseMs: duration().default(5000).describe("how long each pause lasts before asking again"),
    })
    .prefault({}),
});

type RawConfig = z.infer<typeof schema>;
type StreamOptions = Pick<RawConfig, keyof typeof streamOptions>;

/** One table or custom query, everything resolved that can be without asking the database. */
export interface StreamConfig {
  /** The topic, unique in the connector: also the stream's key in the position. */
  topic: string;
  /** MySQL database or PostgreSQL schema of a table; the connection's database for a custom query. */
  schema: string;
  /** The table; for a custom query, its name. */
  table: string;
  sql?: string;
  mode: Mode;
  incrementingColumn?: string;
  timestampColumn?: string;
  createdColumn?: string;
  keyColumns?: string[];
  softDelete?: { column: string; value?: string | number | boolean };
  columns?: { include: string[] } | { exclude: string[] };
  /** Where it came from in the config, for messages: `tables[0]`, `query`. */
  at: string;
}

export type QueryConfig = Omit<RawConfig, "dialect" | "connection" | "tables" | "query" | keyof typeof streamOptions> & {
  dialect: Dialect;
  connection: DatabaseConnection;
  topicPrefix: string;
  streams: StreamConfig[];
};

/** Whether some stream reads by id alone: only those need the id horizon's view of open transactions. */
export const readsById = (config: QueryConfig): boolean => config.streams.some((s) => s.mode === "incrementing");

export const queryConfig = schema
  .superRefine((c, ctx) => {
    if (c.tables.length === 0 && !c.query) ctx.addIssue({ code: "custom", path: ["tables"], message: "needs at least one table (or a `query`)", input: c.tables });
    const entries: { at: (string | number)[]; options: StreamOptions; custom: boolean }[] = [
      ...c.tables.map((t, i) => ({ at: ["tables", i], options: typeof t === "string" ? {} : t, custom: false })),
      ...(c.query ? [{ at: ["query"], options: c.query, custom: true }] : []),
    ];
    for (const { at, options, custom } of entries) {
      const o = { ...pickOptions(c), ...definedOnly(options) };
      if (!o.mode) {
        ctx.addIssue({ code: "custom", path: [...at, "mode"], message: `is required (here or for the whole connector): one of ${MODES.join("|")}`, input: undefined });
        continue;
      }
      if (o.mode.startsWith("timestamp") && !o.timestampColumn) {
        ctx.addIssue({ code: "custom", path: [...at, "timestampColumn"], message: `is required for mode ${o.mode}`, input: undefined });
      }
      if (custom && o.mode.includes("incrementing") && !o.incrementingColumn) {
        ctx.addIssue({ code: "custom", path: [...at, "incrementingColumn"], message: `is required for mode ${o.mode} of a custom query (a query has no primary key to default to)`, input: undefined });
      }
      if (custom && (o.mode === "timestamp" || o.mode === "bulk") && !o.keyColumns?.length) {
        ctx.addIssue({ code: "custom", path: [...at, "keyColumns"], message: `is required for mode ${o.mode} of a custom query: they order rows that share a timestamp, and key the records`, input: undefined });
      }
    }
    if (c.dialect !== "postgres" && !c.connection.database) {
      c.tables.forEach((t, i) => {
        const name = typeof t === "string" ? t : t.name;
        if (!name.includes(".")) {
          ctx.addIssue({ code: "custom", path: ["tables", i], message: "names no database: write it as database.table, or set connection.database", input: name });
        }
      });
    }
  })
  .transform((c): QueryConfig => {
    const dialect: Dialect = c.dialect === "postgres" ? "postgres" : "mysql";
    const connectionWithPort: DatabaseConnection = { ...c.connection, port: c.connection.port ?? (dialect === "postgres" ? 5432 : 3306) };
    const topicPrefix = c.topicPrefix ?? c.name;
    const defaults = pickOptions(c);
    const streams: StreamConfig[] = c.tables.map((entry, i) => {
      const options = typeof entry === "string" ? {} : entry;
      const name = typeof entry === "string" ? entry : entry.name;
      const dot = name.indexOf(".");
      const schemaName = dot > 0 ? name.slice(0, dot) : dialect === "postgres" ? "public" : c.connection.database!;
      const table = dot > 0 ? name.slice(dot + 1) : name;
      return streamOf({ ...defaults, ...definedOnly(options) }, { topic: `${topicPrefix}.${schemaName}.${table}`, schema: schemaName, table, at: `tables[${i}]` });
    });
    if (c.query) {
      const q = c.query;
      const name = q.name ?? q.topic.split(".").pop()!;
      const database = c.connection.database ?? (dialect === "postgres" ? "postgres" : "");
      // it becomes a derived table: a trailing semicolon would end the statement
      const sql = q.sql.trim().replace(/;+\s*$/, "");
      streams.push(streamOf({ ...defaults, ...definedOnly(q) }, { topic: q.topic, schema: database, table: name, sql, at: "query" }));
    }
    // the common fields (and any the runtime adds later) pass through untouched
    const { dialect: _dialect, connection: _connection, topicPrefix: _prefix, tables: _tables, query: _query, ...rest } = c;
    const common = Object.fromEntries(Object.entries(rest).filter(([key]) => !(key in streamOptions))) as Omit<QueryConfig, "dialect" | "connection" | "topicPrefix" | "streams">;
    return { ...common, dialect, connection: connectionWithPort, topicPrefix, streams };
  })
  .refine((c) => new Set(c.streams.map((s) => s.topic)).size === c.streams.length, {
    message: "two streams write the same topic: list each table once, and give the query a topic of its own",
    path: ["tables"],
  });

function pickOptions(o: StreamOptions): StreamOptions {
  return {
    mode: o.mode,
    incrementingColumn: o.incrementingColumn,
    timestampColumn: o.timestampColumn,
    createdColumn: o.createdColumn,
    keyColumns: o.keyColumns,
    softDelete: o.softDelete,
    columns: o.columns,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function streamOf(o: StreamOptions, where: Pick<StreamConfig, "topic" | "schema" | "table" | "at"> & { sql?: string }): StreamConfig {
  const s: StreamConfig = { ...where, mode: o.mode! };
  if (o.incrementingColumn) s.incrementingColumn = o.incrementingColumn;
  if (o.timestampColumn) s.timestampColumn = o.timestampColumn;
  if (o.createdColumn) s.createdColumn = o.createdColumn;
  if (o.keyColumns?.length) s.keyColumns = o.keyColumns;
  if (o.softDelete) s.softDelete = o.softDelete;
  if (o.columns) s.columns = o.columns;
  return s;
}
