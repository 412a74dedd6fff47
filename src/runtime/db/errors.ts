import { ErrorCode } from "../error-catalogue.js";
import type { DbFailure } from "./failure.js";
import { classifyMysqlError } from "./mysql-errors.js";
import { classifyPostgresError } from "./postgres-errors.js";

export type { DbFailure } from "./failure.js";
export { classifyMysqlError, isBinlogReadRefused, isSyntaxRefused } from "./mysql-errors.js";
export { classifyPostgresError } from "./postgres-errors.js";

/** A SQLSTATE is five characters; MySQL's errno is a number (its `code` a name such as ER_…). */
const isSqlState = (err: unknown): boolean => {
  const e = err as { code?: unknown; errno?: unknown } | null;
  return typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.errno !== "number";
};

/** Either dialect's error as a DbFailure, told apart by the shape of its code; undefined when neither knows it. */
export function classifyDbError(err: unknown): DbFailure | undefined {
  if (isSqlState(err)) return classifyPostgresError(err);
  return classifyMysqlError(err) ?? classifyPostgresError(err);
}

/**
 * The catalogue's code for a database failure that means the same to every connector; undefined
 * for the ones a connector names itself (a missing table is SINK_TABLE_MISMATCH to a sink and
 * OUTBOX_TABLE_MISSING to the outbox relay).
 */
export function dbFailureCode(failure: DbFailure | undefined): ErrorCode | undefined {
  switch (failure) {
    case "connection":
      return ErrorCode.CONNECTION_FAILED;
    case "conflict":
      return ErrorCode.DB_CONFLICT;
    case "privilege":
      return ErrorCode.DB_PRIVILEGE_MISSING;
    case "auth":
      return ErrorCode.DB_AUTH_FAILED;
    case "database-missing":
      return ErrorCode.DB_NOT_FOUND;
    default:
      return undefined;
  }
}
