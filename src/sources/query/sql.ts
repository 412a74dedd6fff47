/**
 * The SQL the query source writes, per dialect: quoting, parameters typed as their column (so a
 * BIGINT past 2^53, a DECIMAL or a DATETIME(6) compares exactly, never as a double), keyset
 * predicates and the safe-horizon instant in a column's own time domain.
 */
import { parseSqlType, type ColumnInfo, type Dialect } from "../../runtime/sql-types/mapping.js";
import { quoteMysql, quotePg } from "../../runtime/db/identifiers.js";

/** Parameters in the order the SQL text uses them. */
export type Params = unknown[];

export interface SqlDialect {
  readonly dialect: Dialect;
  quote(identifier: string): string;
  /** A placeholder for `value`, typed as `column`. */
  param(params: Params, value: unknown, column: ColumnInfo): string;
  /** Rows whose `columns` come after `values` in keyset order (an index range scan on both databases). */
  after(params: Params, columns: readonly ColumnInfo[], values: readonly unknown[]): string;
  /** The UTC instant `utcText` ("YYYY-MM-DD HH:MM:SS.ffffff") as a value of `column`: wall-clock columns are shifted into `zone`. */
  instant(params: Params, utcText: string, column: ColumnInfo, zone: string): string;
}

/** Whether a date-time column holds instants (TIMESTAMP, timestamptz) rather than wall-clock times in some zone. */
export function isZoned(column: ColumnInfo): boolean {
  const base = parseSqlType(column.sqlType, column.dialect).base;
  return column.dialect === "mysql" ? base === "timestamp" : base === "timestamp with time zone";
}

export function isDateTime(column: ColumnInfo): boolean {
  const base = parseSqlType(column.sqlType, column.dialect).base;
  return column.dialect === "mysql"
    ? base === "datetime" || base === "timestamp"
    : ["timestamp with time zone", "timestamp without time zone", "timestamp"].includes(base);
}

const MYSQL_INTEGERS = new Set(["tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"]);
const PG_INTEGERS = new Set(["smallint", "integer", "bigint"]);

export function isInteger(column: ColumnInfo): boolean {
  const t = parseSqlType(column.sqlType, column.dialect);
  if ((column.dialect === "mysql" ? MYSQL_INTEGERS : PG_INTEGERS).has(t.base)) return true;
  // NUMERIC(p) / DECIMAL(p,0): whole numbers too
  return ["decimal", "numeric"].includes(t.base) && t.args.length > 0 && Number(t.args[1] ?? 0) === 0;
}

/** Fraction digits a date-time column keeps (MySQL defaults to 0, PostgreSQL to 6). */
export function fractionDigits(column: ColumnInfo): number {
  const arg = parseSqlType(column.sqlType, column.dialect).args[0];
  return arg === undefined ? (column.dialect === "mysql" ? 0 : 6) : Number(arg);
}

function mysqlCast(column: ColumnInfo): string | undefined {
  const t = parseSqlType(column.sqlType, "mysql");
  if (MYSQL_INTEGERS.has(t.base)) return t.unsigned ? "UNSIGNED" : "SIGNED";
  if (["decimal", "numeric", "dec", "fixed"].includes(t.base)) return `DECIMAL(${t.args[0] ?? 10},${t.args[1] ?? 0})`;
  if (t.base === "datetime" || t.base === "timestamp") return "DATETIME(6)";
  if (t.base === "date") return "DATE";
  if (t.base === "time") return "TIME(6)";
  if (t.base === "float" || t.base === "double" || t.base === "real") return "DOUBLE";
  return undefined;
}

const mysql: SqlDialect = {
  dialect: "mysql",
  quote: quoteMysql,
  param(params, value, column) {
    params.push(value);
    const cast = Buffer.isBuffer(value) ? undefined : mysqlCast(column);
    return cast ? `CAST(? AS ${cast})` : "?";
  },
  after(params, columns, values) {
    // a >= x AND (a > x OR (b >= y AND (b > y OR …))): MySQL's range optimizer uses an index for
    // this form, not for a row constructor comparison
    const build = (i: number): string => {
      const col = mysql.quote(columns[i]!.name);
      if (i === columns.length - 1) return `${col} > ${mysql.param(params, values[i], columns[i]!)}`;
      const ge = `${col} >= ${mysql.param(params, values[i], columns[i]!)}`;
      const gt = `${col} > ${mysql.param(params, values[i], columns[i]!)}`;
      return `(${ge} AND (${gt} OR ${build(i + 1)}))`;
    };
    return build(0);
  },
  instant(params, utcText, column, zone) {
    params.push(utcText);
    if (isZoned(column)) return "CAST(? AS DATETIME(6))";
    params.push(zone);
    return "CONVERT_TZ(CAST(? AS DATETIME(6)), '+00:00', ?)";
  },
};

const postgres: SqlDialect = {
  dialect: "postgres",
  quote: quotePg,
  param(params, value, column) {
    params.push(value);
    return `$${params.length}::${column.sqlType}`;
  },
  after(params, columns, values) {
    const cols = columns.map((c) => postgres.quote(c.name));
    const vals = columns.map((c, i) => postgres.param(params, values[i], c));
    return cols.length === 1 ? `${cols[0]} > ${vals[0]}` : `(${cols.join(", ")}) > (${vals.join(", ")})`;
  },
  instant(params, utcText, column, zone) {
    params.push(`${utcText}+00`);
    const at = `$${params.length}::timestamptz`;
    if (isZoned(column)) return at;
    params.push(zone);
    return `(${at} AT TIME ZONE $${params.length})`;
  },
};

export function sqlDialect(dialect: Dialect): SqlDialect {
  return dialect === "mysql" ? mysql : postgres;
}
