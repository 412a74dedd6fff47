/**
 * What one stream reads and how: its columns as the database describes them now, the columns that
 * play a role (incrementing, timestamp, created, soft delete, key) and the keyset order, checked.
 * Used at start (a problem stops the connector with the table and column named), after a DDL, and
 * by `liberator validate`.
 */
import type { TableDescription } from "../../runtime/db/introspect.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import type { StreamConfig } from "./config.js";
import { isDateTime, isInteger } from "./sql.js";
import { ErrorCode } from "../../runtime/errors.js";

export interface StreamPlan {
  config: StreamConfig;
  /** The columns that reach Kafka, in result order. */
  columns: ColumnInfo[];
  /** Whether the SELECT lists columns (an `include` list) rather than `*`. */
  explicit: boolean;
  /** The record key's columns; empty means a null key. */
  key: string[];
  /** The keyset order, which is also the cursor: [timestamp, tie-break…], [incrementing] or the key. */
  cursor: ColumnInfo[];
  incrementing?: ColumnInfo;
  timestamp?: ColumnInfo;
  created?: ColumnInfo;
  softDelete?: ColumnInfo;
}

export interface PlanProblem {
  code: ErrorCode;
  message: string;
  fix?: string;
}

export type PlanResult = { plan: StreamPlan; problems: [] } | { plan?: undefined; problems: PlanProblem[] };

/** "shop.orders" or "query orders", as messages name a stream. */
export function streamLabel(config: StreamConfig): string {
  return config.sql ? `custom query "${config.table}"` : `table ${config.schema}.${config.table}`;
}

/**
 * The plan of a stream over `described` (a table's description, or a custom query's result
 * columns without a primary key). Every problem found is returned, each naming the column.
 */
export function planStream(config: StreamConfig, described: TableDescription): PlanResult {
  const problems: PlanProblem[] = [];
  const label = streamLabel(config);
  const all = described.columns;
  const names = all.map((c) => c.name);
  const find = (name: string, role: string): ColumnInfo | undefined => {
    const column = all.find((c) => c.name === name);
    if (!column) {
      problems.push({
        code: ErrorCode.QUERY_COLUMN_MISSING,
        message: `${label} has no column "${name}" (${role}); its columns are: ${names.join(", ")}`,
        fix: `fix ${config.at}.${role.split(" ")[0]} (or the connector-wide one), or add the column`,
      });
    }
    return column;
  };

  let columns = all;
  let explicit = false;
  if (config.columns && "include" in config.columns) {
    explicit = true;
    columns = config.columns.include.map((n) => find(n, "columns.include")).filter((c): c is ColumnInfo => c !== undefined);
  } else if (config.columns && "exclude" in config.columns) {
    for (const n of config.columns.exclude) find(n, "columns.exclude");
    const excluded = new Set(config.columns.exclude);
    columns = all.filter((c) => !excluded.has(c.name));
  }
  const selected = (column: ColumnInfo | undefined, role: string): ColumnInfo | undefined => {
    if (column && !columns.includes(column)) {
      problems.push({
        code: ErrorCode.QUERY_COLUMN_EXCLUDED,
        message: `${label}: column "${column.name}" is the ${role} but is left out by ${config.at}.columns`,
        fix: `keep "${column.name}" in the columns that are read`,
      });
    }
    return column;
  };

  const mode = config.mode;
  const usesTimestamp = mode === "timestamp" || mode === "timestamp+incrementing";
  const usesIncrementing = mode === "incrementing" || mode === "timestamp+incrementing";

  const key = (config.keyColumns ?? described.primaryKey).map((n) => selected(find(n, "keyColumns"), "key")).filter((c): c is ColumnInfo => c !== undefined);

  let incrementing: ColumnInfo | undefined;
  if (config.incrementingColumn) incrementing = selected(find(config.incrementingColumn, "incrementingColumn"), "incrementing column");
  else if (usesIncrementing) {
    const pk = described.primaryKey;
    const only = pk.length === 1 ? all.find((c) => c.name === pk[0]) : undefined;
    if (only && isInteger(only)) incrementing = selected(only, "incrementing column");
    else {
      problems.push({
        code: ErrorCode.QUERY_COLUMN_MISSING,
        message: `${label} has no one-column integer primary key to use as the incrementing column of mode ${mode}`,
        fix: `set ${config.at}.incrementingColumn`,
      });
    }
  }
  if (incrementing && !isInteger(incrementing)) {
    problems.push({
      code: ErrorCode.QUERY_COLUMN_TYPE,
      message: `${label}: incrementingColumn "${incrementing.name}" is ${incrementing.sqlType}, not an integer: mode ${mode} needs an ever-growing integer (AUTO_INCREMENT, a sequence)`,
      fix: `point ${config.at}.incrementingColumn (or the connector-wide one) at an integer column, or use mode timestamp`,
    });
  }

  const timestamp = usesTimestamp && config.timestampColumn ? selected(find(config.timestampColumn, "timestampColumn"), "timestamp column") : undefined;
  const created = config.createdColumn ? selected(find(config.createdColumn, "createdColumn"), "created column") : undefined;
  for (const [column, role] of [
    [timestamp, "timestampColumn"],
    [created, "createdColumn"],
  ] as const) {
    if (column && !isDateTime(column)) {
      problems.push({
        code: ErrorCode.QUERY_COLUMN_TYPE,
        message: `${label}: ${role} "${column.name}" is ${column.sqlType}, not a date-time: it needs ${column.dialect === "mysql" ? "DATETIME or TIMESTAMP" : "timestamp or timestamp with time zone"}`,
        fix: `point ${config.at}.${role} (or the connector-wide one) at a date-time column${role === "timestampColumn" ? ", or use mode incrementing" : ""}`,
      });
    }
  }
  const softDelete = config.softDelete ? selected(find(config.softDelete.column, "softDelete.column"), "soft-delete column") : undefined;

  let cursor: ColumnInfo[] = [];
  if (mode === "incrementing" && incrementing) cursor = [incrementing];
  else if (mode === "timestamp+incrementing" && timestamp && incrementing) cursor = [timestamp, incrementing];
  else if (mode === "timestamp" && timestamp) cursor = [timestamp, ...key];
  else if (mode === "bulk") cursor = key.length > 0 ? key : incrementing ? [incrementing] : [];
  if ((mode === "timestamp" || mode === "bulk") && cursor.length <= (mode === "timestamp" ? 1 : 0) && problems.length === 0) {
    problems.push({
      code: ErrorCode.QUERY_KEY_MISSING,
      message: `${label} has no primary key: mode ${mode} needs one (or keyColumns) to ${mode === "bulk" ? "page through the table without OFFSET" : "order rows that share a timestamp"}`,
      fix: `set ${config.at}.keyColumns to columns that identify a row`,
    });
  }
  // a NULL in a keyset column is never "after" anything: its row would be skipped without a word
  if (!config.sql) {
    for (const column of cursor.slice(usesTimestamp ? 1 : 0)) {
      if (column.nullable) {
        problems.push({
          code: ErrorCode.QUERY_COLUMN_NULLABLE,
          message: `${label}: column "${column.name}" orders the rows but allows NULL; rows with NULL there would never be read`,
          fix: `make "${column.name}" NOT NULL, or order by other columns (keyColumns, incrementingColumn)`,
        });
      }
    }
  }

  if (problems.length > 0) return { problems };
  const plan: StreamPlan = { config, columns, explicit, key: key.map((c) => c.name), cursor };
  if (incrementing) plan.incrementing = incrementing;
  if (timestamp) plan.timestamp = timestamp;
  if (created) plan.created = created;
  if (softDelete) plan.softDelete = softDelete;
  return { plan, problems: [] };
}
