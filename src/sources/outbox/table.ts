import { ConnectionError, DataError, ErrorCode, LiberatorError, PreconditionError, toLiberatorError } from "../../runtime/errors.js";
import type { TableDescription } from "../../runtime/db/introspect.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";
import type { OutboxColumns } from "./config.js";
import { quoteIdentifier, qualifiedName, type TableName } from "../../runtime/db/identifiers.js";
import { classifyDbError, dbFailureCode } from "../../runtime/db/errors.js";

/** One outbox row, as the relay needs it. */
export interface OutboxRow {
  id: number;
  aggregateType: string;
  aggregateId: string;
  type: string;
  /** The payload's JSON text. */
  payload: string;
  /** The headers' JSON text, or null. */
  headers: string | null;
  /** The server's text of created_at, or null. */
  createdAt: string | null;
  /** Other columns the topic pattern names, as text. */
  extra: Record<string, string | null>;
  /** Payload and headers length: what the batch byte cap counts. */
  bytes: number;
}

/** The outbox table on its database: what the relay reads, cleans up and describes. */
export interface OutboxTable {
  /** The first `limit` unpublished rows in id order, or the first above an id. One snapshot. */
  fetch(limit: number, above?: number): Promise<OutboxRow[]>;
  /** The ids of the first `limit` unpublished rows, in one snapshot: what the next batch is. */
  firstIds(limit: number): Promise<number[]>;
  /** These rows (those still there), in id order. */
  rows(ids: readonly number[]): Promise<OutboxRow[]>;
  /** Deletes (or marks) exactly these rows; safe to repeat. */
  cleanup(ids: readonly number[]): Promise<void>;
  /** A captured table's columns and key (trigger-based change capture). */
  describe(schema: string, table: string): Promise<TableDescription>;
  close(): Promise<void>;
}

export interface TableOptions {
  name: TableName;
  columns: OutboxColumns;
  /** Columns named by the topic pattern beyond the standard ones. */
  extra: readonly string[];
  cleanup: "delete" | "mark";
  connector: string;
}

/**
 * The relay's statements for one table and dialect. `$1`, `$2` are parameters (MySQL's `?`); id
 * lists are one array parameter on PostgreSQL and an expanded list on MySQL.
 */
export function outboxStatements(options: TableOptions, dialect: Dialect) {
  const c = options.columns;
  const q = (name: string) => quoteIdentifier(name, dialect);
  const p = (n: number) => (dialect === "postgres" ? `$${n}` : "?");
  const list = dialect === "postgres" ? "= ANY($1::bigint[])" : "IN (?)";
  const table = qualifiedName(options.name, dialect);
  const id = q(c.id);
  const orNull = (name: string) => (name ? q(name) : "NULL");
  const select = [id, q(c.aggregateType), q(c.aggregateId), q(c.type), q(c.payload), orNull(c.headers), orNull(c.createdAt), ...options.extra.map(q)].join(", ");
  const unpublished = options.cleanup === "mark" ? `${q(c.publishedAt)} IS NULL` : "";
  const where = (...conditions: string[]) => {
    const all = [unpublished, ...conditions].filter(Boolean);
    return all.length > 0 ? ` WHERE ${all.join(" AND ")}` : "";
  };
  return {
    /** Parameter: the limit. */
    first: `SELECT ${select} FROM ${table}${where()} ORDER BY ${id} LIMIT ${p(1)}`,
    /** Parameters: the id, the limit. */
    above: `SELECT ${select} FROM ${table}${where(`${id} > ${p(1)}`)} ORDER BY ${id} LIMIT ${p(2)}`,
    /** Parameter: the limit. */
    firstIds: `SELECT ${id} FROM ${table}${where()} ORDER BY ${id} LIMIT ${p(1)}`,
    /** Parameter: the ids. */
    rows: `SELECT ${select} FROM ${table} WHERE ${id} ${list} ORDER BY ${id}`,
    /** Parameter: the ids. */
    cleanup:
      options.cleanup === "delete"
        ? `DELETE FROM ${table} WHERE ${id} ${list}`
        : `UPDATE ${table} SET ${q(c.publishedAt)} = ${dialect === "postgres" ? "now()" : "CURRENT_TIMESTAMP(6)"}${where(`${id} ${list}`)}`,
  };
}

const text = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
};

/** A driver row (array, in the order of the statements' SELECT list) as an OutboxRow. */
export function toRow(values: unknown[], options: TableOptions): OutboxRow {
  const id = Number(values[0]);
  if (!Number.isSafeInteger(id)) {
    throw new DataError(ErrorCode.OUTBOX_ID_INVALID, `outbox row id ${String(values[0])} is not an integer below 2^53`, {
      fix: `the ${options.columns.id} column must be an auto-increment or sequence integer`,
    });
  }
  const payload = text(values[4]) ?? "null";
  const headers = text(values[5]);
  const extra: Record<string, string | null> = {};
  options.extra.forEach((name, i) => (extra[name] = text(values[7 + i])));
  return {
    id,
    aggregateType: text(values[1]) ?? "",
    aggregateId: text(values[2]) ?? "",
    type: text(values[3]) ?? "",
    payload,
    headers,
    createdAt: text(values[6]),
    extra,
    bytes: payload.length + (headers?.length ?? 0),
  };
}

/**
 * What a failed query means for the relay: a lost connection, a deadlock or a revoked privilege is
 * retried (the runner reopens the connector from its committed position); a missing table or
 * column stops it with the fix; anything else is reported as it is.
 */
export function classifyOutboxError(err: unknown, what: string, options: Pick<TableOptions, "name" | "connector">): LiberatorError {
  if (err instanceof LiberatorError) return err;
  const e = err as Error;
  const where = `${options.name.schema}.${options.name.table}`;
  const opts = { connector: options.connector, cause: err };
  const failure = classifyDbError(err);
  switch (failure) {
    case "table-missing":
      return new PreconditionError(ErrorCode.OUTBOX_TABLE_MISSING, `${what}: the outbox table ${where} does not exist (${e.message})`, {
        ...opts,
        fix: "create it with `liberator outbox init -c <config> --connector <name> --apply`, or fix `table`",
      });
    case "column-missing":
      return new PreconditionError(ErrorCode.OUTBOX_COLUMN_MISSING, `${what}: ${where} lacks a column the config names (${e.message})`, {
        ...opts,
        fix: "fix `columns` in the connector's config, or add the column",
      });
    case "privilege":
      return new PreconditionError(ErrorCode.OUTBOX_PRIVILEGE_MISSING, `${what}: not allowed on ${where} (${e.message})`, {
        ...opts,
        fix: "GRANT SELECT, DELETE (UPDATE for cleanup: mark) on the outbox table to the connector's user",
      });
    case "connection":
      return new ConnectionError(`${what}: lost the connection to the database (${e.message})`, opts);
    default: {
      const code = dbFailureCode(failure);
      return code ? new LiberatorError(code, `${what}: ${e.message}`, opts) : toLiberatorError(err, options.connector);
    }
  }
}
