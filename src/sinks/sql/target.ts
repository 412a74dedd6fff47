/**
 * What the sql sink needs from a target database; postgres.ts and mysql.ts implement it. Each
 * dialect owns its SQL spelling, its fastest multi-row statements and the classification of its
 * errors; everything else (records, folding, DDL decisions, offsets, fencing) is shared.
 */
import type { AvroField, ColumnInfo, Dialect } from "../../runtime/sql-types/mapping.js";
import { dbFailureCode, type DbFailure } from "../../runtime/db/errors.js";
import { ConnectionError, DataError, ErrorCode, LiberatorError, PreconditionError, toLiberatorError } from "../../runtime/errors.js";

/** A table; `schema` is the PostgreSQL schema or the MySQL database, the connection's own when absent. */
export interface TableRef {
  schema?: string | undefined;
  name: string;
}

export interface TargetTable {
  ref: TableRef;
  columns: ColumnInfo[];
  primaryKey: string[];
  /** Column lists of the primary key and every unique index. */
  uniqueKeys: string[][];
}

/**
 * Rows for one table, all of the same columns, as driver parameters (toSqlParam): row after row,
 * each `columns.length` values in column order. One flat array rather than an array per row: a
 * batch holds tens of thousands of rows, and every object kept alive is copied by the collector.
 */
export interface RowSet {
  table: TargetTable;
  columns: readonly string[];
  keyColumns: readonly string[];
  params: unknown[];
}

/** Keys of rows to delete, as driver parameters: key after key, each in `keyColumns` order. */
export interface KeySet {
  table: TargetTable;
  keyColumns: readonly string[];
  params: unknown[];
}

export type Row = Record<string, unknown>;

export interface SqlTarget {
  readonly dialect: Dialect;
  /** "PostgreSQL at host:port/db", for messages. */
  readonly where: string;
  connect(): Promise<void>;
  /** Safe to call twice. Cuts off a transaction in flight (the server rolls it back) rather than wait for it. */
  close(): Promise<void>;
  /** Plain statements (offsets, DDL, introspection), outside or inside a transaction; rows by column name. */
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  describe(ref: TableRef): Promise<TargetTable | undefined>;

  quoteTable(ref: TableRef): string;
  /** A `?`-style placeholder list turned into this dialect's own ($1, $2… for PostgreSQL). */
  placeholders(sql: string): string;
  /** The column type to create for a field (sql-types' avroToSqlType, fit for a key where needed). */
  columnType(field: AvroField, isKey: boolean): string;
  createTableSql(ref: TableRef, columns: { name: string; type: string }[], key: readonly string[]): string;
  addColumnSql(ref: TableRef, column: string, type: string): string;
  alterColumnTypeSql(ref: TableRef, column: string, type: string): string;
  addPrimaryKeySql(ref: TableRef, key: readonly string[]): string;

  /** INSERT; `conflict: "update"` turns a key conflict into an update of the other columns (upsert). */
  insert(rows: RowSet, conflict: "error" | "update"): Promise<void>;
  /** UPDATE by key; rows without a match change nothing. */
  update(rows: RowSet): Promise<void>;
  delete(keys: KeySet): Promise<void>;
  deleteAll(table: TargetTable): Promise<void>;

  /** The error as Liberator sees it: retriable (connection, deadlock), DataError (the rows), or neither. */
  classify(err: unknown, what: string): LiberatorError;
}

const TABLE_FIX = "make the table fit the stream (columns, types, key) or let autoCreate/autoEvolve manage it";

/**
 * A failed statement as the sink reports it, from what the dialect's classifier (runtime/db) made
 * of it: the rows' fault (data: dead-lettered or stopped at), the table's (configuration), or a
 * fault that passes (connection, deadlock, a privilege revoked for a while: retried).
 */
export function classifySinkError(err: unknown, failure: DbFailure | undefined, message: string, where: string, connector: string): LiberatorError {
  if (err instanceof LiberatorError) return err;
  const opts = { connector, cause: err };
  switch (failure) {
    case "data":
      return new DataError(ErrorCode.SINK_ROW_REFUSED, message, { ...opts, fix: "fix the record or the table's constraints" });
    case "table-missing":
    case "column-missing":
    case "schema":
      return new PreconditionError(ErrorCode.SINK_TABLE_MISMATCH, message, { ...opts, fix: TABLE_FIX });
    case "connection":
      return new ConnectionError(`${where}: ${message}`, opts);
    case "privilege":
      return new LiberatorError(ErrorCode.DB_PRIVILEGE_MISSING, `${where}: ${message}`, { ...opts, fix: "GRANT the sink's user what the message names on the target table" });
    default: {
      const code = dbFailureCode(failure);
      return code ? new LiberatorError(code, `${where}: ${message}`, opts) : toLiberatorError(err, connector);
    }
  }
}

/** BEGIN (or START TRANSACTION), `fn`, then COMMIT; ROLLBACK when anything throws. */
export async function inTransaction<T>(query: (sql: string) => Promise<unknown>, begin: string, fn: () => Promise<T>): Promise<T> {
  await query(begin);
  try {
    const result = await fn();
    await query("COMMIT");
    return result;
  } catch (err) {
    await query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
