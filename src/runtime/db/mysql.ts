import mysql, { type Connection, type ConnectionOptions, type Pool, type PoolOptions } from "mysql2/promise";
import type { DatabaseConnection } from "../config/fields.js";
import type { PreflightCheck } from "../registry.js";
import { describeConnectError } from "./connect-errors.js";

/**
 * mysql2 connection options for reading: DECIMAL and BIGINT as strings (never `decimalNumbers`),
 * dates and times as the server's text, JSON as its stored text, 4-byte UTF-8 on the wire.
 * FLOAT is the one type the text protocol rounds (6 significant digits): select it through
 * `MappedColumn.select` (a CAST to DOUBLE, which is exact) or use the binary protocol (`execute`).
 */
export const MYSQL_READ_OPTIONS = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  charset: "UTF8MB4_BIN",
} as const;

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
  if (conn.ssl) options.ssl = conn.ssl === true ? {} : { ...conn.ssl };
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

export function mysqlPool(conn: DatabaseConnection, extra: Partial<PoolOptions> = {}): Pool {
  const pool = mysql.createPool({ ...mysqlOptions(conn), connectionLimit: 4, ...extra });
  // queued before the pool hands the connection out, so every query sees UTC
  pool.on("connection", (c) => {
    void c.query(MYSQL_SESSION_SQL).catch(() => undefined);
  });
  return pool;
}

/** Reachability and credentials, as `liberator validate` reports them. */
export async function checkMysqlReachable(conn: DatabaseConnection): Promise<PreflightCheck> {
  try {
    const c = await mysqlConnect(conn);
    const [rows] = await c.query("SELECT VERSION() AS v");
    await c.end();
    return { check: "connect", ok: true, message: `MySQL/MariaDB ${(rows as { v: string }[])[0]?.v ?? ""} at ${conn.host}:${conn.port}` };
  } catch (err) {
    const e = err as Error & { fix?: string };
    return { check: "connect", ok: false, message: e.message, ...(e.fix ? { fix: e.fix } : {}) };
  }
}
