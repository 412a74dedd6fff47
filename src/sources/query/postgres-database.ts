import type pg from "pg";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { describePgTable, describePgTypes, estimatePgTable, pgIndexes, type TableDescription, type TableEstimate, type TableIndex } from "../../runtime/db/introspect.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import { parseTimestamp } from "../../runtime/avro/values.js";
import { PG_READ_OPTIONS } from "../../runtime/db/postgres.js";
import { ConnectionWatch, type DriverRow, type Page, type SourceDatabase } from "./database.js";
import type { Probe } from "./horizon.js";
import type { Params, SqlDialect } from "./sql.js";

/**
 * Other sessions of this database whose transaction is open. All of them count, not only those
 * with an xid: a transaction stamps now() at its start, long before its first write gives it one.
 */
const OPEN_TRANSACTIONS = `FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
    AND backend_type NOT IN ('autovacuum worker', 'walsender')`;

/**
 * Sessions that may hold sequence values they have not committed: they wrote (have an xid), run a
 * statement other than a read, or drew from a sequence. nextval() gets no xid (it writes WAL once
 * per 32 values) but locks the sequence RowExclusive until the transaction ends: that lock is how
 * `BEGIN; SELECT nextval(…); …; INSERT … ($id)` shows before its INSERT.
 */
const MAY_HOLD_IDS = `(backend_xid IS NOT NULL
    OR (state = 'active' AND query !~* '^\\s*(select|show|explain)\\s' AND query !~* '^\\s*copy\\s.*\\sto\\s+stdout')
    OR pid IN (SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
               WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND c.relkind = 'S' AND l.mode <> 'AccessShareLock'))`;

const micros = (text: unknown): number | null => (text === null || text === undefined ? null : Number(parseTimestamp(text as string, true)));

/**
 * PostgreSQL over one connection that reads every value as the server's text (PG_READ_OPTIONS, a
 * UTC session). Statements are unnamed on purpose: a named one fails with "cached plan must not
 * change result type" after a DDL on its table.
 */
export class PostgresDatabase implements SourceDatabase {
  seesTransactions = false;
  private readonly watch: ConnectionWatch;

  private constructor(
    private readonly client: pg.Client,
    private readonly conn: DatabaseConnection,
    private readonly connector: string,
    readonly sql: SqlDialect,
  ) {
    this.watch = new ConnectionWatch(`PostgreSQL at ${conn.host}:${conn.port}`);
    client.on("error", this.watch.onError);
  }

  static async open(conn: DatabaseConnection, connector: string, sql: SqlDialect): Promise<PostgresDatabase> {
    const client = await pgConnect(conn, connector, PG_READ_OPTIONS);
    try {
      const db = new PostgresDatabase(client, conn, connector, sql);
      const [row] = await db.rows(
        `SELECT current_setting('track_activities') = 'on'
           AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')) AS sees`,
      );
      db.seesTransactions = row?.sees === "t";
      return db;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async select(sql: string, params: Params): Promise<Page> {
    const result = await this.watch.run(() => this.client.query<DriverRow>(sql, params));
    let shape = "";
    for (const f of result.fields) shape += `${f.name}\u0000${f.dataTypeID}\u0000${f.dataTypeModifier}\u0001`;
    return { rows: result.rows, columns: result.fields.map((f) => f.name), shape };
  }

  async rows(sql: string, params: Params = []): Promise<DriverRow[]> {
    return (await this.watch.run(() => this.client.query<DriverRow>(sql, params))).rows;
  }

  async lookup(sql: string, params: Params): Promise<DriverRow[]> {
    return this.rows(sql, params);
  }

  async describeTable(schema: string, table: string): Promise<TableDescription | null> {
    const description = await this.watch.run(() => describePgTable(this.client, schema, table));
    return description.columns.length > 0 ? description : null;
  }

  async indexes(schema: string, table: string): Promise<TableIndex[]> {
    return this.watch.run(() => pgIndexes(this.client, schema, table));
  }

  async estimate(schema: string, table: string): Promise<TableEstimate> {
    return this.watch.run(() => estimatePgTable(this.client, schema, table));
  }

  /**
   * PostgreSQL tells where each result column comes from (table oid, attribute number), through
   * subqueries too. Nullability it does not tell, and an outer join can null any column: every
   * column of a custom query is nullable.
   */
  async describeQuery(sql: string): Promise<ColumnInfo[]> {
    const { fields } = await this.watch.run(() => this.client.query(`SELECT * FROM (${sql}) AS liberator_query LIMIT 0`));
    const origins = await this.rows(
      `SELECT a.attrelid::text AS rel, a.attnum::text AS num, a.attname AS name, n.nspname AS schema, c.relname AS table
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE a.attrelid = ANY($1::oid[])`,
      [`{${[...new Set(fields.filter((f) => f.tableID !== 0).map((f) => f.tableID))].join(",")}}`],
    );
    const types = await this.watch.run(() => describePgTypes(this.client, fields.map((f) => ({ oid: f.dataTypeID, typmod: f.dataTypeModifier }))));
    const described = new Map<string, Promise<TableDescription>>();
    return Promise.all(
      fields.map(async (field, i) => {
        const origin = origins.find((o) => o.rel === String(field.tableID) && o.num === String(field.columnID));
        if (origin) {
          const key = `${String(origin.schema)}.${String(origin.table)}`;
          if (!described.has(key)) described.set(key, this.watch.run(() => describePgTable(this.client, origin.schema as string, origin.table as string)));
          const column = (await described.get(key)!).columns.find((c) => c.name === origin.name);
          if (column) return { ...column, name: field.name, nullable: true };
        }
        return { name: field.name, dialect: "postgres" as const, ...types[i]!, nullable: true };
      }),
    );
  }

  async probe(): Promise<Probe> {
    const [row] = await this.rows(
      this.seesTransactions
        ? `SELECT statement_timestamp() AS now, (SELECT min(xact_start) ${OPEN_TRANSACTIONS}) AS oldest,
                  (SELECT min(xact_start) ${OPEN_TRANSACTIONS} AND ${MAY_HOLD_IDS}) AS oldest_writer,
                  (SELECT string_agg(gid, ', ') FROM pg_prepared_xacts WHERE database = current_database()) AS prepared`
        : "SELECT statement_timestamp() AS now",
    );
    const probe: Probe = { now: micros(row!.now)!, oldest: micros(row!.oldest), oldestWriter: micros(row!.oldest_writer) };
    // a prepared transaction commits whenever its coordinator says; when it began is not kept
    if (row!.prepared) probe.frozenBy = `prepared transaction(s) ${row!.prepared as string} (pg_prepared_xacts)`;
    return probe;
  }

  async oldestTransaction(): Promise<string | undefined> {
    if (!this.seesTransactions) return undefined;
    const [row] = await this.rows(
      `SELECT pid, usename, client_addr, xact_start, state, left(query, 200) AS query ${OPEN_TRANSACTIONS} ORDER BY xact_start LIMIT 1`,
    );
    if (!row) return undefined;
    return `pid ${String(row.pid)} (${String(row.usename)}@${(row.client_addr as string | null) ?? "local"}), ${String(row.state)} since ${String(row.xact_start)}, last statement: ${String(row.query)}`;
  }

  async busyness(): Promise<number> {
    const [row] = await this.rows("SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()");
    return Number(row?.n ?? 0);
  }

  /** What sessions get when they do not set TimeZone: our own session was started in UTC, so ask a fresh one. */
  async defaultTimeZone(): Promise<string> {
    const client = await pgConnect(this.conn, this.connector);
    client.on("error", () => undefined);
    try {
      const { rows } = await client.query<{ tz: string }>("SELECT reset_val AS tz FROM pg_settings WHERE name = 'TimeZone'");
      return rows[0]!.tz;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async checkTimeZone(zone: string): Promise<void> {
    try {
      await this.rows("SELECT now() AT TIME ZONE $1", [zone]);
    } catch (err) {
      throw new PreconditionError(ErrorCode.QUERY_TIME_ZONE_UNKNOWN, `PostgreSQL does not know the time zone "${zone}": ${(err as Error).message}`, {
        cause: err,
        fix: "set timeZone to an IANA name (Europe/Paris) or an offset such as +01:00",
      });
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
