/**
 * Whether the server will give this connector what it needs, each answer with the statement or
 * my.cnf line that fixes it. Run by `liberator validate` and at every start (a failed check stops
 * the connector before it reads anything).
 */
import type { Connection } from "mysql2/promise";
import { listKeylessMysqlTables } from "../../runtime/db/introspect.js";
import { mysqlConnect } from "../../runtime/db/mysql.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import type { PreflightCheck } from "../../runtime/registry.js";
import { serverIdOf, type BinlogConfig } from "./config.js";
import { tableFilter } from "./filters.js";
import { capturedTables, rows, serverInfo, type ServerInfo } from "./server.js";
import { quoteMysql } from "../../runtime/db/identifiers.js";

/** Stable error codes of failed checks (the catalogue says which heal by themselves: privileges do). */
const CODES: Record<string, ErrorCode> = {
  log_bin: ErrorCode.BINLOG_DISABLED,
  binlog_format: ErrorCode.BINLOG_FORMAT_NOT_ROW,
  binlog_row_image: ErrorCode.BINLOG_ROW_IMAGE_NOT_FULL,
  binlog_row_metadata: ErrorCode.BINLOG_ROW_METADATA_NOT_FULL,
  privileges: ErrorCode.BINLOG_PRIVILEGES_MISSING,
  tables: ErrorCode.BINLOG_TABLES_UNREADABLE,
  serverId: ErrorCode.BINLOG_SERVER_ID_IN_USE,
};

const ONE_DAY = 86_400;

function setting(name: string, want: string, actual: string | undefined, restartNeeded = false): PreflightCheck {
  if (actual?.toUpperCase() === want) return { check: name, ok: true, message: `${name} = ${want}` };
  const runtime = restartNeeded ? "" : `SET GLOBAL ${name} = '${want}'; then, so it survives a restart, `;
  return {
    check: name,
    ok: false,
    message: actual === undefined ? `the server has no ${name} setting: it is too old to describe rows in its binlog (MariaDB 10.5+ or MySQL 8.0.1+ needed)` : `${name} is ${actual}, the connector needs ${want}`,
    fix:
      actual === undefined
        ? "upgrade the server; reading old events with today's table definitions would mislabel values"
        : `${runtime}add \`${name} = ${want}\` to the [mysqld] section of my.cnf${restartNeeded ? " and restart the server" : ""}${name === "binlog_format" ? " (sessions already open keep their old format until they reconnect)" : ""}`,
  };
}

/** Every check, in the order a person fixes them. Never throws for a check that fails. */
export async function preflightChecks(config: BinlogConfig, conn: Connection, server: ServerInfo): Promise<PreflightCheck[]> {
  const vars = new Map(
    (
      await rows(
        conn,
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','binlog_expire_logs_seconds','expire_logs_days')",
      )
    ).map((r) => [String(r.Variable_name), String(r.Value)]),
  );
  const checks: PreflightCheck[] = [
    { check: "connect", ok: true, message: `${server.mariadb ? "MariaDB" : "MySQL"} ${server.version} at ${config.connection.host}:${config.connection.port}` },
    setting("log_bin", "ON", vars.get("log_bin"), true),
    setting("binlog_format", "ROW", vars.get("binlog_format")),
    setting("binlog_row_image", "FULL", vars.get("binlog_row_image")),
    setting("binlog_row_metadata", "FULL", vars.get("binlog_row_metadata")),
    await privileges(config, conn, server),
    ...(await tables(config, conn)),
    await uniqueServerId(config, conn, server),
    retention(vars),
  ];
  return checks;
}

async function privileges(config: BinlogConfig, conn: Connection, server: ServerInfo): Promise<PreflightCheck> {
  const grants = (await rows(conn, "SHOW GRANTS")).map((r) => String(Object.values(r)[0])).filter((g) => /\bON \*\.\* TO\b/i.test(g));
  const has = (privilege: string) => grants.some((g) => /\bALL PRIVILEGES\b/i.test(g) || new RegExp(`\\b${privilege}\\b`, "i").test(g));
  const needed = ["REPLICATION SLAVE", server.mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT"];
  if (!server.mariadb && config.snapshot.locking === "minimal") needed.push("RELOAD");
  const missing = needed.filter((p) => !has(p) && !(p === "BINLOG MONITOR" && has("REPLICATION CLIENT")));
  if (missing.length === 0) return { check: "privileges", ok: true, message: `user ${config.connection.user} may read the binlog` };
  return {
    check: "privileges",
    ok: false,
    message: `user ${config.connection.user} lacks ${missing.join(", ")}`,
    fix: `GRANT SELECT, ${needed.join(", ")} ON *.* TO '${config.connection.user}'@'%';  (use the user's real host part)`,
  };
}

async function tables(config: BinlogConfig, conn: Connection): Promise<PreflightCheck[]> {
  const filter = tableFilter(config.include, config.exclude);
  const names = await capturedTables(conn, (db, t) => filter.captures(db, t));
  if (names.length === 0) {
    return [
      {
        check: "tables",
        ok: true,
        severity: "warning",
        message: `no table matches include ${JSON.stringify(config.include)} (exclude ${JSON.stringify(config.exclude)}) yet: tables created later are captured`,
        fix: "check include/exclude, and that the user may see the tables (SELECT privilege)",
      },
    ];
  }
  const unreadable: string[] = [];
  for (const name of names) {
    const [db, t] = [name.slice(0, name.indexOf(".")), name.slice(name.indexOf(".") + 1)];
    await conn.query(`SELECT 1 FROM ${quoteMysql(db)}.${quoteMysql(t)} LIMIT 0`).catch(() => unreadable.push(name));
  }
  const checks: PreflightCheck[] = [
    unreadable.length === 0
      ? { check: "tables", ok: true, message: `${names.length} table(s) captured` }
      : { check: "tables", ok: false, message: `user ${config.connection.user} cannot SELECT from ${unreadable.join(", ")}`, fix: `GRANT SELECT ON <database>.* TO '${config.connection.user}'@'%';` },
  ];
  const keyless = await listKeylessMysqlTables(conn);
  const nullKeys = keyless.map((t) => `${t.schema}.${t.table}`).filter((n) => names.includes(n) && !config.tables[n]?.keyColumns);
  if (nullKeys.length > 0) {
    checks.push({
      check: "keys",
      ok: true,
      severity: "warning",
      message: `${nullKeys.join(", ")} ha${nullKeys.length === 1 ? "s" : "ve"} no primary key: records get a null key (no per-key order, no compaction), and the snapshot reads each in one pass`,
      fix: 'add a primary key, or set tables: { "<db.table>": { keyColumns: [...] } }',
    });
  }
  return checks;
}

async function uniqueServerId(config: BinlogConfig, conn: Connection, server: ServerInfo): Promise<PreflightCheck> {
  const id = serverIdOf(config);
  const fix = "set serverId to a number no replica or other reader of this server uses";
  if (id === server.serverId) return { check: "serverId", ok: false, message: `serverId ${id} is the server's own server_id`, fix };
  const replicas = await rows(conn, "SHOW SLAVE HOSTS").catch(() => []);
  if (replicas.some((r) => Number(r.Server_id) === id)) {
    return { check: "serverId", ok: false, message: `serverId ${id} is used by a replica registered with the server (SHOW SLAVE HOSTS)`, fix };
  }
  return { check: "serverId", ok: true, message: `serverId ${id} is not used by the server or a registered replica` };
}

function retention(vars: Map<string, string>): PreflightCheck {
  const seconds = Number(vars.get("binlog_expire_logs_seconds") ?? 0) || Number(vars.get("expire_logs_days") ?? 0) * ONE_DAY;
  if (seconds === 0) return { check: "retention", ok: true, message: "binlogs are kept until purged by hand" };
  const days = (seconds / ONE_DAY).toFixed(1);
  if (seconds >= ONE_DAY) return { check: "retention", ok: true, message: `binlogs are kept ${days} day(s): a connector stopped longer must copy its tables again` };
  return {
    check: "retention",
    ok: true,
    severity: "warning",
    message: `binlogs are kept only ${Math.round(seconds / 3600)} hour(s): a connector stopped longer loses its place and must copy its tables again`,
    fix: "SET GLOBAL binlog_expire_logs_seconds = 604800; and the same line in my.cnf",
  };
}

/** `liberator validate`: every check, a connection failure included. */
export async function preflight(config: BinlogConfig): Promise<PreflightCheck[]> {
  let conn: Connection;
  try {
    conn = await mysqlConnect(config.connection);
  } catch (err) {
    const e = err as Error & { fix?: string };
    return [{ check: "connect", ok: false, message: e.message, ...(e.fix ? { fix: e.fix } : {}) }];
  }
  try {
    return await preflightChecks(config, conn, await serverInfo(conn));
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** At start: the first failed check stops the connector (never retried: a person must act). */
export function failedCheck(checks: readonly PreflightCheck[], connector: string): PreconditionError | undefined {
  const failed = checks.find((c) => !c.ok && c.severity !== "warning");
  if (!failed) return undefined;
  return new PreconditionError(CODES[failed.check] ?? ErrorCode.BINLOG_PREFLIGHT_FAILED, `${failed.check}: ${failed.message}`, {
    connector,
    ...(failed.fix ? { fix: failed.fix } : {}),
  });
}
