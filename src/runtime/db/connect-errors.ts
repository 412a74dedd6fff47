import type { DatabaseConnection } from "../config/fields.js";
import { ConnectionError, ErrorCode, LiberatorError, PreconditionError } from "../errors.js";
import type { PreflightCheck } from "../registry.js";
import { classifyTlsError, TLS_FAILURE_TEXT, tlsFix } from "../tls.js";
import { classifyDbError } from "./errors.js";

const CAUSES: Record<string, string> = {
  ECONNREFUSED: "nothing listens there: is the server running, and are connection.host and connection.port right?",
  ENOTFOUND: "the host name does not resolve: check connection.host",
  EAI_AGAIN: "the host name could not be resolved right now (DNS): check connection.host and the network",
  ETIMEDOUT: "no answer in time: check connection.host, firewalls and connection.connectTimeoutMs",
  EHOSTUNREACH: "the host is unreachable: check connection.host and the network",
  ECONNRESET: "the server closed the connection: check its logs and whether it accepts TLS or plain connections (connection.ssl)",
};

/**
 * One wording for "cannot connect" across MySQL/MariaDB and PostgreSQL: which server, where, why,
 * and what to change. Authentication, TLS and unknown-database failures are configuration errors.
 */
export function describeConnectError(err: unknown, product: string, conn: DatabaseConnection, connector?: string): LiberatorError {
  const e = err as Error & { code?: string; errno?: number };
  const where = `${product} at ${conn.host}:${conn.port}`;
  const opts = { cause: err, ...(connector ? { connector } : {}) };
  const code = e.code ?? "";
  const tls = classifyTlsError(err);
  if (tls) {
    return new PreconditionError(ErrorCode.DB_TLS_FAILED, `cannot connect to ${where} over TLS: ${TLS_FAILURE_TEXT[tls]} (${e.message})`, {
      ...opts,
      fix: tlsFix(tls, "connection.ssl", "connection.host"),
    });
  }
  if (CAUSES[code]) return new ConnectionError(`cannot reach ${where}: ${code}`, { ...opts, fix: CAUSES[code] });
  const failure = classifyDbError(err);
  if (failure === "auth") {
    return new PreconditionError(ErrorCode.DB_AUTH_FAILED, `${where} refused user "${conn.user}": ${e.message}`, {
      ...opts,
      fix: "check connection.user and connection.password (and the host part of the MySQL user)",
    });
  }
  if (failure === "database-missing") {
    return new PreconditionError(ErrorCode.DB_NOT_FOUND, `${where} has no database "${conn.database ?? ""}"`, {
      ...opts,
      fix: "create it, or fix connection.database",
    });
  }
  if (failure === "privilege") return new LiberatorError(ErrorCode.DB_PRIVILEGE_MISSING, `${where} refused user "${conn.user}": ${e.message}`, opts);
  return new ConnectionError(`cannot use ${where}: ${e.message}`, opts);
}

/** A connect check's result: which server and version, or why it cannot be used and what to change. */
export async function checkReachable(product: string, conn: DatabaseConnection, version: () => Promise<string>): Promise<PreflightCheck> {
  try {
    return { check: "connect", ok: true, message: `${product} ${await version()} at ${conn.host}:${conn.port}` };
  } catch (err) {
    const e = err as Error & { fix?: string };
    return { check: "connect", ok: false, message: e.message, ...(e.fix ? { fix: e.fix } : {}) };
  }
}
