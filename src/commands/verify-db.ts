/**
 * A database as `liberator verify` reads it, source or sink alike: connected, quoted and described
 * through the shared layer (runtime/db), values read as exactly as the sources read them. MySQL's
 * through the binary protocol (selectExact: the text protocol is one unit in the last place off
 * for some DOUBLEs), PostgreSQL's as the server's text in the read session (shortest exact floats).
 */
import type { DatabaseConnection } from "../runtime/config/fields.js";
import { describeMysqlTable, describePgTable, listMysqlTables, listPgTables, type TableDescription } from "../runtime/db/introspect.js";
import { qualifiedName, quoteMysql, quotePg } from "../runtime/db/identifiers.js";
import { mysqlConnect, selectExact, TABLE_AFTER_TABLE } from "../runtime/db/mysql.js";
import { PG_READ_OPTIONS, pgConnect } from "../runtime/db/postgres.js";
import type { Dialect } from "../runtime/sql-types/mapping.js";

export interface TableRef {
  /** The PostgreSQL schema or the MySQL database. */
  schema: string;
  name: string;
}

export type Row = Record<string, unknown>;

export interface VerifyDatabase {
  readonly dialect: Dialect;
  quote(identifier: string): string;
  quoteTable(ref: TableRef): string;
  /** The placeholder of the n-th parameter (from 1). */
  placeholder(n: number): string;
  /** The user tables (no views), sorted. */
  listTables(): Promise<TableRef[]>;
  /** Undefined when there is no such table. */
  describe(ref: TableRef): Promise<TableDescription | undefined>;
  select(sql: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export async function openDatabase(dialect: Dialect, connection: DatabaseConnection): Promise<VerifyDatabase> {
  const exists = (t: TableDescription) => (t.columns.length > 0 ? t : undefined);
  if (dialect === "postgres") {
    const client = await pgConnect(connection, "verify", PG_READ_OPTIONS);
    return {
      dialect,
      quote: quotePg,
      quoteTable: (ref) => qualifiedName({ schema: ref.schema, table: ref.name }, dialect),
      placeholder: (n) => `$${n}`,
      listTables: async () => (await listPgTables(client)).map((t) => ({ schema: t.schema, name: t.table })),
      describe: async (ref) => exists(await describePgTable(client, ref.schema, ref.name)),
      select: async (sql, params) => (await client.query<Row>(sql, params)).rows,
      close: () => client.end(),
    };
  }
  // table after table: statements of the tables done are closed as new ones come
  const conn = await mysqlConnect(connection, "verify", TABLE_AFTER_TABLE);
  return {
    dialect,
    quote: quoteMysql,
    quoteTable: (ref) => qualifiedName({ schema: ref.schema, table: ref.name }, dialect),
    placeholder: () => "?",
    listTables: async () => (await listMysqlTables(conn)).map((t) => ({ schema: t.schema, name: t.table })),
    describe: async (ref) => exists(await describeMysqlTable(conn, ref.schema, ref.name)),
    select: async (sql, params) => (await selectExact(conn, sql, params)).rows,
    close: () => conn.end(),
  };
}
