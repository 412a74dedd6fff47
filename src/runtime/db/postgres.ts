import pg from "pg";
import type { DatabaseConnection } from "../config/fields.js";
import type { PreflightCheck } from "../registry.js";
import { nodeTlsOptions } from "../tls.js";
import { checkReachable, describeConnectError } from "./connect-errors.js";

/** Hands every PostgreSQL value over as the server's text; the mapping converts it exactly. */
const rawText = (value: string) => value;

/**
 * pg client options for reading: every type as text (no parse of int8, numeric, timestamps into
 * JS numbers or Dates), in the session settings whose output the mapping expects: UTC, ISO dates,
 * ISO 8601 intervals, hex bytea, and shortest-exact floats (3 also covers servers before 12).
 */
export const PG_READ_OPTIONS: Pick<pg.ClientConfig, "options" | "types"> = {
  options: "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex",
  types: { getTypeParser: () => rawText },
};

export function pgOptions(conn: DatabaseConnection, extra: pg.ClientConfig = {}): pg.ClientConfig {
  const options: pg.ClientConfig = {
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database ?? "postgres",
    connectionTimeoutMillis: conn.connectTimeoutMs,
    application_name: "liberator",
    ...extra,
  };
  const tls = nodeTlsOptions(conn.ssl);
  if (tls) options.ssl = tls;
  return options;
}

export async function pgConnect(conn: DatabaseConnection, connector?: string, extra?: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(pgOptions(conn, extra));
  try {
    await client.connect();
    await client.query("SET TIME ZONE 'UTC'");
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw describeConnectError(err, "PostgreSQL", conn, connector);
  }
}

/**
 * A replication connection (`replication: "database"`), for CREATE_REPLICATION_SLOT and
 * START_REPLICATION, in the session settings of PG_READ_OPTIONS: the walsender formats the values
 * it sends as text with them.
 */
export async function pgReplicationConnect(conn: DatabaseConnection, connector?: string): Promise<pg.Client> {
  const client = new pg.Client({ ...pgOptions(conn, { options: PG_READ_OPTIONS.options }), replication: "database" } as pg.ClientConfig);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw describeConnectError(err, "PostgreSQL", conn, connector);
  }
}

/** Reachability and credentials, as `liberator validate` reports them. */
export const checkPostgresReachable = (conn: DatabaseConnection): Promise<PreflightCheck> =>
  checkReachable("PostgreSQL", conn, async () => {
    const c = await pgConnect(conn);
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    await c.end();
    return rows[0]?.v ?? "";
  });
