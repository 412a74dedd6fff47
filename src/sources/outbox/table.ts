import { ConnectionError, DataError, LiberatorError, PreconditionError, toLiberatorError } from "../../runtime/errors.js";
import type { TableDescription } from "../../runtime/schema/introspect.js";
import type { Dialect, OutboxColumns } from "./config.js";
import { quote, type TableName } from "./sql.js";

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

/** Which unpublished rows to fetch: ids below and/or above a bound, or all. */
export interface IdRange {
  below?: number;
  above?: number;
}

/** The outbox table on its database: what the relay reads, cleans up and describes. */
export interface OutboxTable {
  /** Unpublished rows of each range, each range in id order and cut at `limit`. */
  fetch(ranges: readonly IdRange[], limit: number): Promise<OutboxRow[]>;
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

/** The SELECT list, in the order `toRow` reads it. */
export function selectList(options: TableOptions, dialect: Dialect): string {
  const c = options.columns;
  const q = (name: string) => quote(name, dialect);
  const orNull = (name: string) => (name ? q(name) : "NULL");
  return [q(c.id), q(c.aggregateType), q(c.aggregateId), q(c.type), q(c.payload), orNull(c.headers), orNull(c.createdAt), ...options.extra.map(q)].join(", ");
}

/** Drivers hand text, numbers (MySQL INT ids), Buffers (binary columns) or, for MySQL 8 JSON, parsed objects. */
const text = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
};

/** A driver row (array, in `selectList` order) as an OutboxRow. */
export function toRow(values: unknown[], options: TableOptions): OutboxRow {
  const id = Number(values[0]);
  if (!Number.isSafeInteger(id)) {
    throw new DataError("OUTBOX_ID_INVALID", `outbox row id ${String(values[0])} is not an integer below 2^53`, {
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

/** Rows (or what holds them) of several ranges in one id order, cut at `limit`. */
export function mergeById<T extends { id: number } | { row: { id: number } }>(items: T[], limit: number): T[] {
  const id = (t: T) => ("id" in t ? t.id : t.row.id);
  items.sort((a, b) => id(a) - id(b));
  return items.length > limit ? items.slice(0, limit) : items;
}

const CONNECTION_LOST = /terminated|not queryable|closed state|connection lost|ECONNRESET|EPIPE|Connection ended|socket/i;

/**
 * What a failed query means for the relay: a lost connection is retried (the runner reopens the
 * connector from its committed position); a missing table, column or privilege stops it with the
 * fix; anything else is reported as it is.
 */
export function classifyDbError(err: unknown, what: string, options: Pick<TableOptions, "name" | "connector">): LiberatorError {
  if (err instanceof LiberatorError) return err;
  const e = err as Error & { code?: string; errno?: number };
  const code = e.code ?? "";
  const where = `${options.name.schema}.${options.name.table}`;
  const opts = { connector: options.connector, cause: err };
  if (code === "42P01" || code === "ER_NO_SUCH_TABLE" || code === "3F000") {
    return new PreconditionError("OUTBOX_TABLE_MISSING", `${what}: the outbox table ${where} does not exist (${e.message})`, {
      ...opts,
      fix: "create it with `liberator outbox init -c <config> --connector <name> --apply`, or fix `table`",
    });
  }
  if (code === "42703" || code === "ER_BAD_FIELD_ERROR") {
    return new PreconditionError("OUTBOX_COLUMN_MISSING", `${what}: ${where} lacks a column the config names (${e.message})`, {
      ...opts,
      fix: "fix `columns` in the connector's config, or add the column",
    });
  }
  if (code === "42501" || code === "ER_TABLEACCESS_DENIED_ERROR" || code === "ER_COLUMNACCESS_DENIED_ERROR") {
    return new PreconditionError("OUTBOX_PRIVILEGE_MISSING", `${what}: not allowed on ${where} (${e.message})`, {
      ...opts,
      fix: "GRANT SELECT, DELETE (UPDATE for cleanup: mark) on the outbox table to the connector's user",
    });
  }
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || CONNECTION_LOST.test(e.message ?? "") || CONNECTION_LOST.test(code)) {
    return new ConnectionError(`${what}: lost the connection to the database (${e.message})`, opts);
  }
  return toLiberatorError(err, options.connector);
}
