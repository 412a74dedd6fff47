/**
 * The way back: from an Avro field to a column type for CREATE/ALTER TABLE, and from a canonical
 * value (values.ts) to a parameter mysql2 or pg writes exactly. On the dialect a field came from,
 * its recorded source type (`connect.parameters`, see mapping.ts) is used as is; otherwise the
 * column type is derived from the Avro type, choosing text over any type that would round.
 */
import { MICRO_TIME_NAME, TEMPORAL_TEXT_NAME } from "../avro/logical-types.js";
import { DataError, ErrorCode, PreconditionError } from "../errors.js";
import {
  ENUM_NAME,
  enumLabels,
  MAPPING,
  NUMERIC_NAME,
  SQL_DIALECT_PARAMETER,
  SQL_TYPE_PARAMETER,
  parseSqlType,
  quoteMysqlLabels,
  type AvroField,
  type AvroTypeSchema,
  type Dialect,
} from "./mapping.js";

type TypeObject = { type: unknown; [attribute: string]: unknown };

function objectOf(type: AvroTypeSchema): TypeObject {
  return typeof type === "string" ? { type } : Array.isArray(type) ? { type } : (type);
}

const isTemporalText = (branch: AvroTypeSchema) => typeof branch === "object" && !Array.isArray(branch) && branch["connect.name"] === TEMPORAL_TEXT_NAME;

/**
 * A field's type without its null branch, and without the text branch beside a date or time
 * (mapping.ts orText): the column holds the logical type's values and, where the dialect can,
 * the text ones (PostgreSQL's infinity).
 */
export function fieldType(field: Pick<AvroField, "type">): { type: TypeObject; nullable: boolean } {
  const t = field.type;
  if (Array.isArray(t)) {
    const rest = t.filter((b) => b !== "null" && !isTemporalText(b));
    return { type: objectOf(rest.length === 1 ? rest[0]! : rest), nullable: t.includes("null") };
  }
  return { type: objectOf(t), nullable: false };
}

/** Type names our table knows for a dialect: a recorded type outside them (a user's enum type) is not reused. */
const KNOWN = {
  mysql: new Set(MAPPING.filter((r) => r.dialect === "mysql").flatMap((r) => r.sql)),
  postgres: new Set(MAPPING.filter((r) => r.dialect === "postgres").flatMap((r) => r.sql)),
};

/** The column type to create for `field` on `dialect`, NOT NULL when the field cannot be null. */
export function avroToSqlType(field: Pick<AvroField, "name" | "type">, dialect: Dialect): string {
  const { type, nullable } = fieldType(field);
  return `${columnType(type, dialect, field.name)}${nullable ? "" : " NOT NULL"}`;
}

/** The field's recorded source column type, when it came from `dialect` and names a built-in type. */
function sameDialectType(type: TypeObject, dialect: Dialect): string | undefined {
  const parameters = type["connect.parameters"] as Record<string, string> | undefined;
  const source = parameters?.[SQL_TYPE_PARAMETER];
  return source && parameters[SQL_DIALECT_PARAMETER] === dialect && KNOWN[dialect].has(parseSqlType(source, dialect).base) ? source : undefined;
}

/** Column types by Avro logical type, Kafka Connect name and Avro type: [MySQL, PostgreSQL]. */
const BY_LOGICAL_TYPE = new Map<string, [string, string]>([
  ["date", ["DATE", "date"]],
  ["time-micros", ["TIME(6)", "time(6)"]],
  // MySQL's TIMESTAMP ends in 2038: a UTC DATETIME holds every value
  ["timestamp-micros", ["DATETIME(6)", "timestamp(6) with time zone"]],
  ["local-timestamp-micros", ["DATETIME(6)", "timestamp(6) without time zone"]],
  ["uuid", ["CHAR(36)", "uuid"]],
]);
const BY_CONNECT_NAME = new Map<string, [string, string]>([
  // json keeps the document as written (jsonb reorders keys, drops duplicates and refuses \u0000)
  ["io.debezium.data.Json", ["JSON", "json"]],
  // MySQL has no exact type for a NUMERIC of any scale: its text is exact
  [NUMERIC_NAME, ["LONGTEXT", "numeric"]],
  ["io.debezium.time.Interval", ["VARCHAR(64)", "interval"]],
  // a duration, up to MySQL's 838:59:59: PostgreSQL's time stops at 24:00:00
  [MICRO_TIME_NAME, ["TIME(6)", "interval"]],
]);
const BY_TYPE = new Map<string, [string, string]>([
  ["boolean", ["BOOLEAN", "boolean"]],
  ["int", ["INT", "integer"]],
  ["long", ["BIGINT", "bigint"]],
  ["float", ["FLOAT", "real"]],
  ["double", ["DOUBLE", "double precision"]],
  ["string", ["LONGTEXT", "text"]],
  ["enum", ["LONGTEXT", "text"]],
  ["bytes", ["LONGBLOB", "bytea"]],
  ["fixed", ["LONGBLOB", "bytea"]],
  ["record", ["JSON", "jsonb"]],
  ["map", ["JSON", "jsonb"]],
]);

function columnType(type: TypeObject, dialect: Dialect, name: string): string {
  const source = sameDialectType(type, dialect);
  if (source) return source;
  const mysql = dialect === "mysql";
  if (type.logicalType === "decimal") {
    const p = Number(type.precision);
    const s = Number(type.scale ?? 0);
    // MySQL's DECIMAL stops at (65,30): anything wider is kept exact as text
    if (mysql && (p > 65 || s > 30)) return "LONGTEXT";
    return `${mysql ? "DECIMAL" : "numeric"}(${p},${s})`;
  }
  const labels = enumLabels(type["connect.parameters"] as Record<string, string> | undefined);
  if (mysql && type["connect.name"] === ENUM_NAME && labels && enumHolds(labels)) return `ENUM(${quoteMysqlLabels(labels)})`;
  if (type.type === "array") return mysql ? "JSON" : `${columnType(fieldType({ type: type.items as AvroTypeSchema }).type, dialect, name)}[]`;
  const pair = BY_LOGICAL_TYPE.get(type.logicalType as string) ?? BY_CONNECT_NAME.get(type["connect.name"] as string) ?? BY_TYPE.get(type.type as string);
  if (!pair) throw new PreconditionError(ErrorCode.SCHEMA_TYPE_UNSUPPORTED, `field "${name}" has Avro type ${JSON.stringify(type)}, which has no column type here`);
  return pair[mysql ? 0 : 1];
}

/**
 * Whether a MariaDB ENUM keeps these labels as they are: it strips trailing spaces when the table
 * is created, and its PAD SPACE collations would then see "a" and "a " as one label; it holds at
 * most 65,535 labels of up to 255 characters. Otherwise the labels go into text.
 */
function enumHolds(labels: readonly string[]): boolean {
  return labels.length > 0 && labels.length <= 65_535 && labels.every((l) => !l.endsWith(" ") && [...l].length <= 255) && new Set(labels).size === labels.length;
}

/**
 * A canonical value as a parameter the driver writes exactly: bigints and decimals as text,
 * dates and times in the dialect's own spelling (MySQL without "T" and "Z", sessions in UTC;
 * PostgreSQL with "BC" for years before 1), sets joined, arrays for pg and JSON text for MySQL.
 */
export function toSqlParam(value: unknown, field: Pick<AvroField, "type">, dialect: Dialect): unknown {
  return paramOf(value, fieldType(field).type, dialect);
}

function paramOf(value: unknown, type: TypeObject, dialect: Dialect, inJson = false): unknown {
  if (value === null || value === undefined) return null;
  const mysql = dialect === "mysql";
  switch (type.logicalType) {
    case "date":
      if (mysql && !inJson) return mysqlCalendar(value as string);
      return mysql ? value : pgCalendar(value as string);
    case "timestamp-micros":
    case "local-timestamp-micros": {
      const text = value as string;
      if (mysql) return (inJson ? text : mysqlCalendar(text)).replace("T", " ").replace(/Z$/, "");
      return pgCalendar(text);
    }
  }
  // domains.ts names these at start; the row is refused here rather than left to the server, which
  // stores -0 as 0 without a word, and JSON, which has no such numbers (JSON.stringify writes null and 0)
  if (mysql && typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) {
    throw new DataError(ErrorCode.SINK_ROW_REFUSED, `${Object.is(value, -0) ? "-0 (negative zero)" : String(value)}: MariaDB's FLOAT and DOUBLE ${Object.is(value, -0) ? "store it as 0" : "hold no NaN or infinity"}${inJson ? ", nor does JSON" : ""}`, {
      fix: "write the column to a PostgreSQL target, or change the record",
    });
  }
  if (typeof value === "bigint") return value.toString();
  // BIT(1) columns take 1/0, not true/false (and MySQL's BOOLEAN is a TINYINT anyway)
  if (typeof value === "boolean") return mysql ? Number(value) : sameDialectType(type, dialect)?.startsWith("bit") ? (value ? "1" : "0") : value;
  if (Array.isArray(value)) {
    if (mysql && sameDialectType(type, dialect)?.toLowerCase().startsWith("set(")) return value.join(",");
    const items = fieldType({ type: type.items as AvroTypeSchema }).type;
    const converted = value.map((v) => paramOf(v, items, dialect, mysql));
    return mysql ? JSON.stringify(converted.map((v) => (Buffer.isBuffer(v) ? v.toString("base64") : v))) : converted;
  }
  return value;
}

/**
 * A date or timestamp for a MariaDB DATE/DATETIME, which holds years 0001-9999: PostgreSQL's
 * infinities and other years (the text branch, "-004712-01-01", "+010000-…") are refused here,
 * never left to the server's lenient parsing of the text; so is 1 BC ("0000-12-31"), which MariaDB
 * would take as its year 0, a zero date to MariaDB sources (partialZeroDates).
 */
function mysqlCalendar(text: string): string {
  if (/^\d{4}-/.test(text) && !text.startsWith("0000")) return text;
  throw new DataError(ErrorCode.SINK_ROW_REFUSED, `${text}: MariaDB's DATE and DATETIME hold years 0001 to 9999, no infinity`, { fix: "write the column to a PostgreSQL target, or change the record" });
}

/** PostgreSQL spells years before 1 as BC ("0044-03-15 BC") and wants no "+" on long years. */
function pgCalendar(text: string): string {
  // years 1000-9999, nearly every value: only a trailing Z changes (once per timestamp written)
  const first = text.charCodeAt(0);
  if (first >= 49 && first <= 57 && text.charCodeAt(4) === 45) return text.endsWith("Z") ? `${text.slice(0, -1)}+00` : text;
  const m = /^([+-]?)(\d{4,})(-.*)$/.exec(text);
  if (!m) return text; // infinity, -infinity
  const year = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  const rest = m[3]!.replace(/Z$/, "+00");
  if (year >= 1) return `${String(year).padStart(4, "0")}${rest}`;
  return `${String(1 - year).padStart(4, "0")}${rest} BC`;
}
