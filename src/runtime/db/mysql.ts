import mysql, { type Connection, type ConnectionOptions, type ExecuteValues, type FieldPacket } from "mysql2/promise";
import type { DatabaseConnection } from "../config/fields.js";
import type { PreflightCheck } from "../registry.js";
import { nodeTlsOptions } from "../tls.js";
import { checkReachable, describeConnectError } from "./connect-errors.js";

/**
 * mysql2 connection options for reading: DECIMAL and BIGINT as strings (never `decimalNumbers`),
 * dates and times as the server's text, JSON as its stored text, 4-byte UTF-8 on the wire.
 * Values that go into records are read with `selectExact` (the binary protocol): the text protocol
 * rounds FLOAT (6 significant digits) and mysql2 misparses about a quarter of DOUBLE texts.
 */
export const MYSQL_READ_OPTIONS = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  charset: "UTF8MB4_BIN",
} as const;

const ER_NEED_REPREPARE = 1615;

/**
 * A SELECT whose values go into records, through the binary protocol (a prepared statement): it
 * carries FLOAT and DOUBLE as their 4 and 8 bytes. The text protocol does not serve: the server's
 * DOUBLE text is exact, but mysql2 parses it with a digit loop of its own that is one unit in the
 * last place off for about a quarter of values (94286.28571428571 read as 94286.28571428572), and
 * it prints FLOAT with 6 digits. Every other type reads into the same canonical value either way
 * (sql-types/mapping.ts evens out the fraction digits the binary protocol leaves off).
 */
export async function selectExact(conn: Connection, sql: string, params: readonly unknown[] = []): Promise<{ rows: Record<string, unknown>[]; fields: FieldPacket[] }> {
  const execute = async () => {
    const [rows, fields] = await conn.execute(sql, params as ExecuteValues[]);
    return { rows: rows as Record<string, unknown>[], fields };
  };
  return execute().catch((err: unknown) => {
    // a DDL between two executions of the cached statement: prepared afresh once
    if ((err as { errno?: number }).errno !== ER_NEED_REPREPARE) throw err;
    conn.unprepare(sql);
    return execute();
  });
}

/**
 * For a connection that reads table after table with `selectExact` (a snapshot): the statements of
 * the tables done are closed as new ones come, not kept until the connection ends (the server
 * allows max_prepared_stmt_count statements, 16,382 by default, across all its sessions).
 */
export const TABLE_AFTER_TABLE: Partial<ConnectionOptions> = { maxPreparedStatements: 8 };

/** Run on every MySQL/MariaDB connection before reading: TIMESTAMP columns are then printed in UTC. */
export const MYSQL_SESSION_SQL = "SET time_zone = '+00:00'";

export function mysqlOptions(conn: DatabaseConnection, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  const options: ConnectionOptions = {
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    connectTimeout: conn.connectTimeoutMs,
    // exact values: decimals, big integers and dates stay strings; the SQL type mapping (sql-types/mapping.ts) converts them
    ...MYSQL_READ_OPTIONS,
    timezone: "Z",
    ...extra,
  };
  if (conn.database) options.database = conn.database;
  const tls = nodeTlsOptions(conn.ssl);
  if (tls) {
    const rejectUnauthorized = tls.rejectUnauthorized !== false;
    // mysql2 checks the host name only when asked (verifyIdentity), unlike Node's tls.connect
    const verifyIdentity = rejectUnauthorized && tls.checkServerIdentity === undefined;
    options.ssl = { ...tls, rejectUnauthorized, verifyIdentity } as ConnectionOptions["ssl"];
  }
  return options;
}

export async function mysqlConnect(conn: DatabaseConnection, connector?: string, extra?: Partial<ConnectionOptions>): Promise<Connection> {
  try {
    const c = await mysql.createConnection(mysqlOptions(conn, extra));
    await c.query(MYSQL_SESSION_SQL);
    return c;
  } catch (err) {
    throw describeConnectError(err, "MySQL/MariaDB", conn, connector);
  }
}

/** Reachability and credentials, as `liberator validate` reports them. */
export const checkMysqlReachable = (conn: DatabaseConnection): Promise<PreflightCheck> =>
  checkReachable("MySQL/MariaDB", conn, async () => {
    const c = await mysqlConnect(conn);
    const [rows] = await c.query("SELECT VERSION() AS v");
    await c.end();
    return (rows as { v: string }[])[0]?.v ?? "";
  });
