/**
 * Tables that follow the stream: the CREATE TABLE for a stream's row schema (autoCreate), the
 * columns it lacks (autoEvolve adds them, always nullable), and the changes that cannot be made
 * safely while rows flow (a column that must widen, a key without a unique index): those stop the
 * sink with the statement a person can review and run.
 */
import { PreconditionError } from "../../runtime/errors.js";
import { parseSqlType, SQL_DIALECT_PARAMETER, type AvroField, type Dialect } from "../../runtime/sql-types/mapping.js";
import { fieldType } from "../../runtime/sql-types/to-sql.js";
import type { RowSchema } from "./changes.js";
import type { SqlTarget, TableRef, TargetTable } from "./target.js";

const NOT_NULL = / NOT NULL$/;

export function createTableSql(target: SqlTarget, ref: TableRef, schema: RowSchema, key: readonly string[]): string {
  const missing = key.filter((k) => !schema.columns.includes(k));
  if (missing.length > 0) {
    throw new PreconditionError("SINK_KEY_COLUMN_MISSING", `key column(s) ${missing.join(", ")} of table ${target.quoteTable(ref)} are not fields of the stream's rows (${schema.columns.join(", ")})`, {
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

/** ALTER statements for columns too narrow for what the stream's schema allows. */
export function wideningsSql(target: SqlTarget, table: TargetTable, schema: RowSchema, key: readonly string[]): string[] {
  return schema.fields.flatMap((f, i) => {
    const name = schema.columns[i]!;
    const column = table.columns.find((c) => c.name === name);
    if (!column) return [];
    const wanted = target.columnType(f, key.includes(name));
    return tooNarrow(column.sqlType, wanted.replace(NOT_NULL, ""), target.dialect, sameDialect(f, target.dialect)) ? [target.alterColumnTypeSql(table.ref, name, wanted)] : [];
  });
}

/** The field's type was recorded on this very dialect: its integer types mean exactly what they say. */
function sameDialect(field: AvroField, dialect: Dialect): boolean {
  const parameters = fieldType(field).type["connect.parameters"] as Record<string, string> | undefined;
  return parameters?.[SQL_DIALECT_PARAMETER] === dialect;
}

const INTEGER_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64 };
const LENGTH_TYPES = new Set(["varchar", "character varying", "char", "character", "varbinary", "binary"]);
const DECIMAL_TYPES = new Set(["decimal", "numeric", "dec", "fixed"]);

type Range = [min: bigint, max: bigint];

function integerRange(t: { base: string; unsigned: boolean }): Range | undefined {
  const bits = INTEGER_BITS[t.base];
  if (bits === undefined) return undefined;
  return t.unsigned ? [0n, (1n << BigInt(bits)) - 1n] : [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n];
}

/**
 * Whether a column of type `existing` cannot hold every value of `wanted`: fewer integer or
 * fraction digits, a smaller integer range, a shorter length. Other pairs are not judged here (a
 * value that does not fit still fails its row, as a DataError). Integer widths are compared only
 * when the field's type was recorded on this dialect: Avro's int stands for any of tinyint…int.
 */
export function tooNarrow(existing: string, wanted: string, dialect: Dialect, exactIntegers: boolean): boolean {
  const a = parseSqlType(existing, dialect);
  const b = parseSqlType(wanted, dialect);
  if (a.array !== b.array) return false;
  if (DECIMAL_TYPES.has(a.base) && DECIMAL_TYPES.has(b.base) && a.args.length > 0 && b.args.length > 0) {
    const [p1, s1] = [Number(a.args[0]), Number(a.args[1] ?? 0)];
    const [p2, s2] = [Number(b.args[0]), Number(b.args[1] ?? 0)];
    return s1 < s2 || p1 - s1 < p2 - s2;
  }
  const ra = integerRange(a);
  const rb = integerRange(b);
  if (ra && rb) return exactIntegers && (rb[0] < ra[0] || rb[1] > ra[1]);
  if (ra && DECIMAL_TYPES.has(b.base) && b.args.length > 0) {
    const scale = Number(b.args[1] ?? 0);
    const limit = 10n ** BigInt(Number(b.args[0]) - scale) - 1n;
    return scale > 0 || -limit < ra[0] || limit > ra[1];
  }
  if (LENGTH_TYPES.has(a.base) && LENGTH_TYPES.has(b.base) && a.args.length > 0 && b.args.length > 0) return Number(a.args[0]) < Number(b.args[0]);
  return false;
}

/** For upserts the key must be the primary key or a unique index, or the database cannot tell a conflict. */
export function hasUniqueKey(table: TargetTable, key: readonly string[]): boolean {
  return table.uniqueKeys.some((u) => u.length === key.length && u.every((c) => key.includes(c)));
}
