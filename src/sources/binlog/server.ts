/**
 * What the binlog source asks the server about its log: which files it holds, where it ends, the
 * GTID position at a point, and a consistent read with the exact point it is consistent with.
 */
import type { Connection } from "mysql2/promise";
import { isSyntaxRefused } from "../../runtime/db/errors.js";
import { listMysqlTables } from "../../runtime/db/introspect.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { describeCoordinates, type Coordinates } from "./position.js";

type Row = Record<string, unknown>;

/** A text column of a server answer (mysql2 hands some over as Buffers). */
export function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString();
  return typeof v === "number" || typeof v === "bigint" ? `${v}` : "";
}

export async function rows(conn: Connection, sql: string, values?: unknown[]): Promise<Row[]> {
  const [result] = await conn.query(sql, values);
  return result as Row[];
}

export interface ServerInfo {
  version: string;
  mariadb: boolean;
  serverId: number;
}

export async function serverInfo(conn: Connection): Promise<ServerInfo> {
  const [row] = await rows(conn, "SELECT VERSION() AS v, @@server_id AS id");
  const version = text(row?.v);
  return { version, mariadb: /mariadb/i.test(version), serverId: Number(row?.id) };
}

export interface BinaryLog {
  file: string;
  size: number;
}

export async function binaryLogs(conn: Connection): Promise<BinaryLog[]> {
  return (await rows(conn, "SHOW BINARY LOGS")).map((r) => ({ file: String(r.Log_name), size: Number(r.File_size) }));
}

/** The end of the log now: a transaction boundary, where streaming without a snapshot starts. */
export async function logEnd(conn: Connection): Promise<Coordinates> {
  const [row] = await masterStatus(conn);
  if (!row) {
    throw new PreconditionError(ErrorCode.BINLOG_DISABLED, "the server writes no binary log (SHOW MASTER STATUS is empty)", {
      fix: "add log_bin = mysql-bin to the server's my.cnf [mysqld] section and restart it",
    });
  }
  return { file: String(row.File), pos: Number(row.Position) };
}

/** SHOW MASTER STATUS; MySQL 8.4 renamed it SHOW BINARY LOG STATUS. */
async function masterStatus(conn: Connection): Promise<Row[]> {
  try {
    return await rows(conn, "SHOW MASTER STATUS");
  } catch (err) {
    if (!isSyntaxRefused(err)) throw err;
    return rows(conn, "SHOW BINARY LOG STATUS");
  }
}

/** MariaDB's GTID position at a point of its log; null on MySQL or where the server cannot tell. */
export async function gtidAt(conn: Connection, at: Coordinates, mariadb: boolean): Promise<string | null> {
  if (!mariadb) return null;
  const [row] = await rows(conn, "SELECT BINLOG_GTID_POS(?, ?) AS g", [at.file, at.pos]);
  return row?.g === null || row?.g === undefined ? null : text(row.g);
}

export interface ConsistentRead {
  at: Coordinates;
  gtid: string | null;
}

/**
 * Opens a REPEATABLE READ transaction on `conn` and returns the binlog point its reads are
 * consistent with. MariaDB gives that point exactly and without any lock (Binlog_snapshot_file
 * and _position, read in the same transaction). MySQL has no such status: with locking "minimal"
 * commits are blocked by a global read lock for the instant the snapshot and position are taken;
 * with "none" the position is read beside the snapshot, and may be off by what commits meanwhile.
 */
export async function startConsistentRead(conn: Connection, mariadb: boolean, locking: "minimal" | "none"): Promise<ConsistentRead> {
  await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  if (mariadb) {
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    const status = await rows(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'");
    const value = (name: string) => status.find((r) => String(r.Variable_name).toLowerCase() === name)?.Value;
    const at = { file: text(value("binlog_snapshot_file")), pos: Number(value("binlog_snapshot_position")) };
    if (!at.file || !Number.isFinite(at.pos)) {
      throw new PreconditionError(ErrorCode.BINLOG_DISABLED, "the server reports no binlog snapshot position", {
        fix: "add log_bin = mysql-bin to the server's my.cnf [mysqld] section and restart it",
      });
    }
    return { at, gtid: await gtidAt(conn, at, true) };
  }
  if (locking === "minimal") await conn.query("FLUSH TABLES WITH READ LOCK");
  try {
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    const [row] = await masterStatus(conn);
    const gtid = typeof row?.Executed_Gtid_Set === "string" && row.Executed_Gtid_Set ? row.Executed_Gtid_Set.replace(/\s/g, "") : null;
    return { at: { file: text(row?.File), pos: Number(row?.Position) }, gtid };
  } finally {
    if (locking === "minimal") await conn.query("UNLOCK TABLES");
  }
}

/**
 * Why streaming cannot start at `at`: its file is purged, or the point is not in the log the
 * server has. Undefined when it can.
 */
export async function checkStartPoint(conn: Connection, at: Coordinates, gtid: string | null, mariadb: boolean): Promise<PreconditionError | undefined> {
  const logs = await binaryLogs(conn);
  const log = logs.find((l) => l.file === at.file);
  const where = describeCoordinates(at);
  if (!log) {
    const oldest = logs[0]?.file ?? "none";
    return new PreconditionError(ErrorCode.BINLOG_POSITION_PURGED, `the stored position ${where} is gone from the server: binlog file ${at.file} was purged (the oldest left is ${oldest})`, {
      fix: "changes made since are lost to the binlog: copy the tables again (snapshot.mode: when_needed does it by itself), or reset the connector's offsets with `liberator offsets reset --connector <name>`",
    });
  }
  if (at.pos > log.size) {
    return new PreconditionError(ErrorCode.BINLOG_POSITION_INVALID, `the stored position ${where} is past the end of ${at.file} (${log.size} bytes): the server's log is not the one this connector read`, {
      fix: "was the server restored or RESET MASTER run? Reset the connector's offsets (`liberator offsets reset --connector <name>`) to copy the tables again",
    });
  }
  if (mariadb && gtid) {
    const there = await gtidAt(conn, at, true);
    if (there !== null && normalizeGtid(there) !== normalizeGtid(gtid)) {
      return new PreconditionError(ErrorCode.BINLOG_POSITION_INVALID, `the server's log at ${where} is at GTID ${there || "(none)"}, but this connector stored ${gtid} there: the log was reset or replaced`, {
        fix: "reset the connector's offsets (`liberator offsets reset --connector <name>`) to copy the tables again",
      });
    }
  }
  return undefined;
}

const normalizeGtid = (g: string) =>
  g
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(",");

/** The base tables the filter captures, as "db.table", sorted. */
export async function capturedTables(conn: Connection, captures: (database: string, table: string) => boolean): Promise<string[]> {
  const all = await listMysqlTables(conn);
  return all
    .filter(({ schema, table }) => captures(schema, table))
    .map(({ schema, table }) => `${schema}.${table}`)
    .sort();
}
