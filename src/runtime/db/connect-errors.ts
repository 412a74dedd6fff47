import type { LiberatorError} from "../errors.js";
import { ConnectionError, PreconditionError } from "../errors.js";
import type { DatabaseConnection } from "../config/fields.js";

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
 * and what to change. Authentication and unknown-database failures are not retriable.
 */
export function describeConnectError(err: unknown, product: string, conn: DatabaseConnection, connector?: string): LiberatorError {
  const e = err as Error & { code?: string; errno?: number };
  const where = `${product} at ${conn.host}:${conn.port}`;
  const opts = { cause: err, ...(connector ? { connector } : {}) };
  const code = e.code ?? "";
  if (CAUSES[code]) return new ConnectionError(`cannot reach ${where}: ${code}`, { ...opts, fix: CAUSES[code] });
  if (code === "ER_ACCESS_DENIED_ERROR" || code === "28P01" || code === "28000") {
    return new PreconditionError("DB_AUTH_FAILED", `${where} refused user "${conn.user}": ${e.message}`, {
      ...opts,
      fix: "check connection.user and connection.password (and the host part of the MySQL user)",
    });
  }
  if (code === "ER_BAD_DB_ERROR" || code === "3D000") {
    return new PreconditionError("DB_NOT_FOUND", `${where} has no database "${conn.database ?? ""}"`, {
      ...opts,
      fix: "create it, or fix connection.database",
    });
  }
  return new ConnectionError(`cannot use ${where}: ${e.message}`, opts);
}
