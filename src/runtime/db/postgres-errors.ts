import { isNetworkError } from "../net-errors.js";
import type { DbFailure } from "./failure.js";

/** SQLSTATEs that name the failure exactly; classes (two characters) come after them. */
const BY_STATE: Record<string, DbFailure> = {
  "57P01": "connection", // admin_shutdown (a fast or smart shutdown, pg_terminate_backend)
  "57P02": "connection", // crash_shutdown
  "57P03": "connection", // cannot_connect_now (starting up, or in recovery)
  "57014": "connection", // query_canceled (pg_cancel_backend, statement_timeout)
  "25P03": "connection", // idle_in_transaction_session_timeout ended the session
  "53300": "connection", // too_many_connections
  "25006": "connection", // read_only_sql_transaction: a standby, e.g. during a failover
  "40001": "conflict", // serialization_failure
  "40P01": "conflict", // deadlock_detected
  "55P03": "conflict", // lock_not_available
  "42501": "privilege", // insufficient_privilege
  "28P01": "auth", // invalid_password
  "28000": "auth", // invalid_authorization_specification
  "3D000": "database-missing", // invalid_catalog_name
  "42P01": "table-missing", // undefined_table
  "42703": "column-missing", // undefined_column
  "3F000": "table-missing", // invalid_schema_name
  "0A000": "schema", // feature_not_supported
};

const BY_CLASS: Record<string, DbFailure> = {
  "08": "connection", // connection exception
  "53": "connection", // insufficient resources (disk full, out of memory)
  "58": "connection", // system error (I/O)
  "22": "data", // data exception
  "23": "data", // integrity constraint violation
  "42": "schema", // syntax error or access rule violation
};

/** pg reports a connection it lost without a SQLSTATE. */
const LOST = /Connection terminated|not queryable|Client was closed|Connection ended|timeout exceeded when trying to connect/i;

/**
 * PostgreSQL's SQLSTATE (or pg's own wording for a lost connection) as a DbFailure; undefined for
 * what it does not know. The one place that reads PostgreSQL error codes.
 */
export function classifyPostgresError(err: unknown): DbFailure | undefined {
  // before the SQLSTATE: EPIPE has five letters too
  if (isNetworkError(err)) return "connection";
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return BY_STATE[code] ?? BY_CLASS[code.slice(0, 2)];
  return err instanceof Error && LOST.test(err.message) ? "connection" : undefined;
}
