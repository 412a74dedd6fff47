/**
 * What a failed database call means, whichever the dialect: the one vocabulary the per-dialect
 * classifiers (postgres-errors.ts, mysql-errors.ts) answer in, and that connectors and the error
 * taxonomy (error-catalogue.ts) read.
 * - connection: refused, reset, killed, server restarting or shutting down, too many connections,
 *   a read-only server during a failover: the same call on a new connection may succeed.
 * - conflict: deadlock, lock wait timeout, serialization failure: retry the transaction.
 * - privilege: the user may not do this now (privileges can be granted back).
 * - auth: the credentials are refused.
 * - database-missing: the database named in the connection does not exist.
 * - table-missing: a table (or its schema) does not exist.
 * - column-missing: a column does not exist.
 * - schema: the statement does not fit the table (types, syntax, a column without a default).
 * - data: this row is refused (constraint, range, length, value).
 */
export type DbFailure = "connection" | "conflict" | "privilege" | "auth" | "database-missing" | "table-missing" | "column-missing" | "schema" | "data";
