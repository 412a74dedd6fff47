/**
 * Tables that follow the stream: the CREATE TABLE for a stream's row schema (autoCreate), the
 * columns it lacks (autoEvolve adds them, always nullable), and the changes that cannot be made
 * safely while rows flow (a column that cannot hold the stream's values, a key without a unique
 * index): those stop the sink with the statement a person can review and run.
 */
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { columnDomain, fieldDomain, gaps, type Gap } from "../../runtime/sql-types/domains.js";
import type { RowSchema } from "./changes.js";
import type { SqlTarget, TableRef, TargetTable } from "./target.js";

const NOT_NULL = / NOT NULL$/;

export function createTableSql(target: SqlTarget, ref: TableRef, schema: RowSchema, key: readonly string[]): string {
  const missing = key.filter((k) => !schema.columns.includes(k));
  if (missing.length > 0) {
    throw new PreconditionError(ErrorCode.SINK_KEY_COLUMN_MISSING, `key column(s) ${missing.join(", ")} of table ${target.quoteTable(ref)} are not fields of the stream's rows (${schema.columns.join(", ")})`, {
      fix: "set keyColumns to columns the rows have",
    });
  }
  const columns = schema.fields.map((f, i) => ({ name: schema.columns[i]!, type: target.columnType(f, key.includes(schema.columns[i]!)) }));
  return target.createTableSql(ref, columns, key);
}

/** ADD COLUMN statements for the fields the table lacks; new columns are nullable, so existing rows stay valid. */
export function addColumnsSql(target: SqlTarget, table: TargetTable, schema: RowSchema): string[] {
  const have = new Set(table.columns.map((c) => c.name));
  return schema.fields.flatMap((f, i) => {
    const column = schema.columns[i]!;
    return have.has(column) ? [] : [target.addColumnSql(table.ref, column, target.columnType(f, false).replace(NOT_NULL, ""))];
  });
}

/** A column of the table that cannot hold some values the stream's field carries. */
export interface ColumnGap {
  column: string;
  sqlType: string;
  /** Values the source type holds in the normal course: the table cannot take the stream. */
  ordinary: Gap[];
  /** NaN, infinities, years past 9999, text of an unbounded type past a length: named, then refused row by row. */
  exceptional: Gap[];
  /** The statement that gives the column the type autoCreate would choose. */
  alter: string;
}

/**
 * What the table's existing columns cannot hold of the values the stream's fields carry
 * (sql-types/domains.ts): the source column's type recorded in the field, against the column's.
 * Types either side does not describe are not judged (a value that does not fit still fails its
 * row, as a DataError).
 */
export function columnGaps(target: SqlTarget, table: TargetTable, schema: RowSchema, key: readonly string[]): ColumnGap[] {
  return schema.fields.flatMap((f, i) => {
    const name = schema.columns[i]!;
    const column = table.columns.find((c) => c.name === name);
    const source = fieldDomain(f);
    const holder = column && columnDomain(column);
    if (!column || !source || !holder) return [];
    const found = gaps(source, holder);
    if (found.length === 0) return [];
    // only the type changes: PostgreSQL's ALTER … TYPE keeps NULL/NOT NULL (and takes no NOT NULL
    // there), MySQL's MODIFY drops what it does not restate, so it restates the column's own
    const wanted = target.columnType(f, key.includes(name)).replace(NOT_NULL, "");
    const type = target.dialect === "postgres" ? wanted : `${wanted}${column.nullable ? " NULL" : " NOT NULL"}`;
    return [{ column: name, sqlType: column.sqlType, ordinary: found.filter((g) => !g.exceptional), exceptional: found.filter((g) => g.exceptional), alter: target.alterColumnTypeSql(table.ref, name, type) }];
  });
}

/** `column "d" (time(6)): negative durations, durations past 24:00:00` */
export function describeGap(gap: ColumnGap, which: "ordinary" | "exceptional"): string {
  return `column "${gap.column}" (${gap.sqlType}): ${gap[which].map((g) => g.values).join(", ")}`;
}

/** For upserts the key must be the primary key or a unique index, or the database cannot tell a conflict. */
export function hasUniqueKey(table: TargetTable, key: readonly string[]): boolean {
  return table.uniqueKeys.some((u) => u.length === key.length && u.every((c) => key.includes(c)));
}
