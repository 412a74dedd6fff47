import { isNetworkError } from "../net-errors.js";
import type { DbFailure } from "./failure.js";

/** MySQL/MariaDB server errnos (and the client's 2xxx) that name the failure. */
const BY_ERRNO = new Map<number, DbFailure>([
  [1040, "connection"], // ER_CON_COUNT_ERROR: too many connections
  [1053, "connection"], // ER_SERVER_SHUTDOWN
  [1077, "connection"], // ER_NORMAL_SHUTDOWN
  [1078, "connection"], // ER_GOT_SIGNAL
  [1079, "connection"], // ER_SHUTDOWN_COMPLETE
  [1080, "connection"], // ER_FORCING_CLOSE
  [1152, "connection"], // ER_ABORTING_CONNECTION
  [1158, "connection"], // ER_NET_READ_ERROR
  [1159, "connection"], // ER_NET_READ_INTERRUPTED
  [1160, "connection"], // ER_NET_ERROR_ON_WRITE
  [1161, "connection"], // ER_NET_WRITE_INTERRUPTED
  [1184, "connection"], // ER_NEW_ABORTING_CONNECTION
  [1290, "connection"], // ER_OPTION_PREVENTS_STATEMENT: --read-only, e.g. a replica during a failover
  [1317, "connection"], // ER_QUERY_INTERRUPTED (KILL QUERY)
  [1927, "connection"], // ER_CONNECTION_KILLED (MariaDB)
  [2002, "connection"], // CR_CONNECTION_ERROR
  [2003, "connection"], // CR_CONN_HOST_ERROR
  [2006, "connection"], // CR_SERVER_GONE_ERROR
  [2013, "connection"], // CR_SERVER_LOST
  [2055, "connection"], // CR_SERVER_LOST_EXTENDED
  [4031, "connection"], // ER_CLIENT_INTERACTION_TIMEOUT: disconnected for inactivity
  [1205, "conflict"], // ER_LOCK_WAIT_TIMEOUT
  [1213, "conflict"], // ER_LOCK_DEADLOCK
  [1044, "privilege"], // ER_DBACCESS_DENIED_ERROR
  [1142, "privilege"], // ER_TABLEACCESS_DENIED_ERROR
  [1143, "privilege"], // ER_COLUMNACCESS_DENIED_ERROR
  [1227, "privilege"], // ER_SPECIFIC_ACCESS_DENIED_ERROR (REPLICATION SLAVE, RELOAD…)
  [1370, "privilege"], // ER_PROCACCESS_DENIED_ERROR
  [1045, "auth"], // ER_ACCESS_DENIED_ERROR
  [1698, "auth"], // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  [1049, "database-missing"], // ER_BAD_DB_ERROR
  [1109, "table-missing"], // ER_UNKNOWN_TABLE (e.g. an information_schema table a plugin adds)
  [1146, "table-missing"], // ER_NO_SUCH_TABLE
  [1054, "column-missing"], // ER_BAD_FIELD_ERROR
  [1364, "schema"], // ER_NO_DEFAULT_FOR_FIELD: a column the stream does not fill
  [1048, "data"], // column cannot be null
  [1062, "data"], // duplicate entry
  [1264, "data"], // out of range
  [1265, "data"], // data truncated
  [1292, "data"], // incorrect value
  [1366, "data"], // incorrect value for the column (e.g. a character the charset lacks)
  [1367, "data"], // illegal value
  [1406, "data"], // data too long
  [1411, "data"], // incorrect value for a function
  [1451, "data"], // a row referencing it exists (foreign key)
  [1452, "data"], // no referenced row (foreign key)
  [1690, "data"], // value out of range
  [3140, "data"], // invalid JSON text
  [3819, "data"], // check constraint (MySQL)
  [4025, "data"], // check constraint (MariaDB)
]);

/** The server's symbolic names, for an error that carries its name but no errno. */
const BY_NAME = new Map<string, DbFailure>([
  ["ER_ACCESS_DENIED_ERROR", "auth"],
  ["ER_BAD_DB_ERROR", "database-missing"],
  ["ER_LOCK_DEADLOCK", "conflict"],
  ["ER_LOCK_WAIT_TIMEOUT", "conflict"],
  ["ER_TABLEACCESS_DENIED_ERROR", "privilege"],
  ["ER_SPECIFIC_ACCESS_DENIED_ERROR", "privilege"],
  ["ER_NO_SUCH_TABLE", "table-missing"],
  ["ER_BAD_FIELD_ERROR", "column-missing"],
]);

/** The server refuses to send its binlog from the position asked (purged, or not a position of its log). */
export const isBinlogReadRefused = (err: unknown): boolean => (err as { errno?: unknown } | null)?.errno === 1236; // ER_MASTER_FATAL_ERROR_READING_BINLOG

/** The server does not know a statement's syntax (ER_PARSE_ERROR): an older or newer server's spelling of it. */
export const isSyntaxRefused = (err: unknown): boolean => (err as { errno?: unknown } | null)?.errno === 1064; // ER_PARSE_ERROR

/** mysql2's own codes for a connection it lost or never had. */
const CLIENT_CODES = new Set(["PROTOCOL_CONNECTION_LOST", "PROTOCOL_SEQUENCE_TIMEOUT", "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR", "PROTOCOL_ENQUEUE_AFTER_QUIT", "ER_SERVER_SHUTDOWN"]);

const LOST = /closed state|Connection lost|connection is closed|Pool is closed/i;

/**
 * A MySQL/MariaDB error (mysql2's errno and code, or the binlog client's) as a DbFailure; undefined
 * for what it does not know. The one place that reads MySQL error numbers.
 */
export function classifyMysqlError(err: unknown): DbFailure | undefined {
  const e = err as { errno?: unknown; code?: unknown; fatal?: unknown; message?: unknown } | null;
  const known = (typeof e?.errno === "number" ? BY_ERRNO.get(e.errno) : undefined) ?? (typeof e?.code === "string" ? BY_NAME.get(e.code) : undefined);
  if (known) return known;
  if (isNetworkError(err) || (typeof e?.code === "string" && CLIENT_CODES.has(e.code))) return "connection";
  // a fatal error leaves the connection unusable, whatever caused it
  if (e?.fatal === true) return "connection";
  return typeof e?.message === "string" && LOST.test(e.message) ? "connection" : undefined;
}
