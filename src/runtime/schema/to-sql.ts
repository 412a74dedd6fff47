/**
 * The way back: from an Avro field to a column type for CREATE/ALTER TABLE, and from a canonical
 * value (values.ts) to a parameter mysql2 or pg writes exactly. On the dialect a field came from,
 * its recorded source type (`connect.parameters`, see mapping.ts) is used as is; otherwise the
 * column type is derived from the Avro type, choosing text over any type that would round.
 */
import { PreconditionError } from "../errors.js";
import {
  MAPPING,
  NUMERIC_NAME,
  SQL_DIALECT_PARAMETER,
  SQL_TYPE_PARAMETER,
  parseSqlType,
  type AvroField,
  type AvroTypeSchema,
  type Dialect,
} from "./mapping.js";

type TypeObject = { type: unknown; [attribute: string]: unknown };

function objectOf(type: AvroTypeSchema): TypeObject {
  return typeof type === "string" ? { type } : Array.isArray(type) ? { type } : (type);
}

/** A field's type without its null branch. */
export function fieldType(field: Pick<AvroField, "type">): { type: TypeObject; nullable: boolean } {
  const t = field.type;
  if (Array.isArray(t)) {
    const rest = t.filter((b) => b !== "null");
    return { type: objectOf(rest.length === 1 ? rest[0]! : rest), nullable: rest.length < t.length };
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

function columnType(type: TypeObject, dialect: Dialect, name: string): string {
  const source = sameDialectType(type, dialect);
  if (source) return source;
  const parameters = type["connect.parameters"] as Record<string, string> | undefined;
  const mysql = dialect === "mysql";
  switch (type.logicalType) {
    case "decimal": {
      const p = Number(type.precision);
      const s = Number(type.scale ?? 0);
      // MySQL's DECIMAL stops at (65,30): anything wider is kept exact as text
      if (mysql && (p > 65 || s > 30)) return "LONGTEXT";
      return `${mysql ? "DECIMAL" : "numeric"}(${p},${s})`;
    }
    case "date":
      return mysql ? "DATE" : "date";
    case "time-micros":
      return mysql ? "TIME(6)" : "time(6)";
    case "timestamp-micros":
      return mysql ? "DATETIME(6)" : "timestamp(6) with time zone";
    case "local-timestamp-micros":
      return mysql ? "DATETIME(6)" : "timestamp(6) without time zone";
    case "uuid":
      return mysql ? "CHAR(36)" : "uuid";
  }
  switch (type["connect.name"]) {
    case "io.debezium.data.Json":
      return mysql ? "JSON" : "jsonb";
    case NUMERIC_NAME:
      return mysql ? "LONGTEXT" : "numeric";
    case "io.debezium.time.Interval":
      return mysql ? "VARCHAR(64)" : "interval";
    case "io.debezium.data.Enum": {
      const allowed = parameters?.allowed;
      return mysql && allowed !== undefined ? `ENUM(${allowed.split(",").map(quote).join(",")})` : mysql ? "LONGTEXT" : "text";
    }
  }
  switch (type.type) {
    case "boolean":
      return mysql ? "BOOLEAN" : "boolean";
    case "int":
      return mysql ? "INT" : "integer";
    case "long":
      return mysql ? "BIGINT" : "bigint";
    case "float":
      return mysql ? "FLOAT" : "real";
    case "double":
      return mysql ? "DOUBLE" : "double precision";
    case "string":
    case "enum":
      return mysql ? "LONGTEXT" : "text";
    case "bytes":
    case "fixed":
      return mysql ? "LONGBLOB" : "bytea";
    case "array":
      return mysql ? "JSON" : `${columnType(fieldType({ type: type.items as AvroTypeSchema }).type, dialect, name)}[]`;
    case "record":
    case "map":
      return mysql ? "JSON" : "jsonb";
  }
  throw new PreconditionError("SCHEMA_TYPE_UNSUPPORTED", `field "${name}" has Avro type ${JSON.stringify(type)}, which has no column type here`);
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * A canonical value as a parameter the driver writes exactly: bigints and decimals as text,
 * dates and times in the dialect's own spelling (MySQL without "T" and "Z", sessions in UTC;
 * PostgreSQL with "BC" for years before 1), sets joined, arrays for pg and JSON text for MySQL.
 */
export function toSqlParam(value: unknown, field: Pick<AvroField, "type">, dialect: Dialect): unknown {
  return paramOf(value, fieldType(field).type, dialect);
}

function paramOf(value: unknown, type: TypeObject, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  const mysql = dialect === "mysql";
  switch (type.logicalType) {
    case "date":
      return mysql ? value : pgCalendar(value as string);
    case "timestamp-micros":
    case "local-timestamp-micros": {
      const text = value as string;
      if (mysql) return text.replace("T", " ").replace(/Z$/, "");
      return pgCalendar(text);
    }
  }
  if (typeof value === "bigint") return value.toString();
  // BIT(1) columns take 1/0, not true/false (and MySQL's BOOLEAN is a TINYINT anyway)
  if (typeof value === "boolean") return mysql ? Number(value) : sameDialectType(type, dialect)?.startsWith("bit") ? (value ? "1" : "0") : value;
  if (Array.isArray(value)) {
    if (mysql && sameDialectType(type, dialect)?.toLowerCase().startsWith("set(")) return value.join(",");
    const items = fieldType({ type: type.items as AvroTypeSchema }).type;
    const converted = value.map((v) => paramOf(v, items, dialect));
    return mysql ? JSON.stringify(converted.map((v) => (Buffer.isBuffer(v) ? v.toString("base64") : v))) : converted;
  }
  return value;
}

/** PostgreSQL spells years before 1 as BC ("0044-03-15 BC") and wants no "+" on long years. */
function pgCalendar(text: string): string {
  const m = /^([+-]?)(\d{4,})(-.*)$/.exec(text);
  if (!m) return text; // infinity, -infinity
  const year = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  const rest = m[3]!.replace(/Z$/, "+00");
  if (year >= 1) return `${String(year).padStart(4, "0")}${rest}`;
  return `${String(1 - year).padStart(4, "0")}${rest} BC`;
}
