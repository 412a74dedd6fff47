/**
 * What values a column holds, and what values a field can carry: the same description for both,
 * so that a sink can name, before its first write, the values its target columns cannot hold.
 *
 * A field's domain is its source column's (the type recorded in `connect.parameters`) when it has
 * one, on whichever dialect: a MariaDB TIME(6) field carries durations of ±838:59:59.999999
 * whatever database it goes to. Otherwise it is the Avro type's (a foreign producer's `int` is
 * any 32-bit integer).
 *
 * A gap is either ordinary (values the source type holds in the normal course: durations past a
 * day, more fraction digits, text longer than a VARCHAR(n) the source declares) or exceptional
 * (NaN and the infinities, PostgreSQL's infinite and BC dates, years past 9999, text of an
 * unbounded type past a length): the sql sink refuses a table with the first kind and names the
 * second at start.
 */
import { MICRO_TIME_NAME, TEMPORAL_TEXT_NAME } from "../avro/logical-types.js";
import { enumLabels, INTERVAL_NAME, JSON_NAME, NUMERIC_NAME, parseSqlType, SQL_DIALECT_PARAMETER, SQL_TYPE_PARAMETER, type AvroField, type ColumnInfo, type Dialect, type SqlType } from "./mapping.js";
import { fieldType } from "./to-sql.js";

export type Domain =
  | { kind: "integer"; min: bigint; max: bigint }
  /** Fixed-point: `digits` before the point, `scale` after it. */
  | { kind: "decimal"; digits: number; scale: number }
  /** Any decimal of any scale, NaN and ±Infinity: PostgreSQL's unconstrained numeric. */
  | { kind: "number" }
  /** `special`: NaN, ±Infinity and -0 (MariaDB's FLOAT and DOUBLE hold none: it stores -0 as 0). */
  | { kind: "float"; bits: 32 | 64; special: boolean }
  | { kind: "boolean" }
  /** `chars` undefined: longer than any value that matters. `nul`: whether it holds U+0000 (PostgreSQL's text does not). */
  | { kind: "text"; chars?: number | undefined; nul: boolean }
  | { kind: "bytes"; bytes?: number | undefined }
  | { kind: "bits"; bits?: number | undefined }
  /** `nul`: whether a string in it may hold \u0000 (jsonb refuses it; json keeps the text as written). */
  | { kind: "json"; nul: boolean }
  | { kind: "uuid" }
  | { kind: "interval" }
  /** `errorValue`: a MySQL ENUM's '' (index 0), which a non-strict session writes for a bad label. */
  | { kind: "labels"; set: boolean; labels: readonly string[]; errorValue?: boolean }
  /** Calendar years `from`–`to`; `special`: infinity, -infinity and years outside 0001–9999 too. */
  | { kind: "date"; from: number; to: number; special: boolean }
  | { kind: "timestamp"; from: number; to: number; fraction: number; special: boolean }
  /** Durations from `min` to `max` microseconds (a time of day is 0 up to a day). */
  | { kind: "time"; min: number; max: number; fraction: number }
  | { kind: "array"; items: Domain }
  /** Values with a text form only (inet, time with time zone): a text column holds them. */
  | { kind: "textual"; what: string; chars: number };

export interface Gap {
  /** The values, in words: "negative durations", "durations past 24:00:00". */
  values: string;
  exceptional: boolean;
  /** Values longer than the column's length: text, bytes, bit strings. */
  length?: boolean;
}

const HOUR = 3_600_000_000;
const INT_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64, int2: 16, int4: 32, int8: 64 };
const TEXT_BYTES: Record<string, number> = { tinytext: 255, text: 65_535, mediumtext: 16_777_215 };
const BLOB_BYTES: Record<string, number> = { tinyblob: 255, blob: 65_535, mediumblob: 16_777_215 };
const DECIMALS = new Set(["decimal", "numeric", "dec", "fixed"]);
const MYSQL_TIME_MAX = 838 * HOUR + 59 * 60_000_000 + 59_999_999;

function integer(bits: number, unsigned: boolean): Domain {
  const b = BigInt(bits);
  return unsigned ? { kind: "integer", min: 0n, max: (1n << b) - 1n } : { kind: "integer", min: -(1n << (b - 1n)), max: (1n << (b - 1n)) - 1n };
}

/** Fraction digits of a temporal type: its argument, else the dialect's default (MySQL 0, PostgreSQL 6). */
function fraction(t: SqlType, dialect: Dialect): number {
  return t.args[0] === undefined ? (dialect === "mysql" ? 0 : 6) : Number(t.args[0]);
}

/** What a column of this type holds (for a MySQL/MariaDB column, with the sink's utf8mb4 tables in mind). */
export function columnDomain(column: Pick<ColumnInfo, "sqlType" | "dialect" | "enumValues">): Domain | undefined {
  const { dialect } = column;
  const t = parseSqlType(column.sqlType, dialect);
  if (t.array) {
    const items = columnDomain({ ...column, sqlType: column.sqlType.replace(/(\[\])+$/, "") });
    return items && { kind: "array", items };
  }
  if (column.enumValues) return { kind: "labels", set: false, labels: column.enumValues };
  const n = t.args[0] === undefined ? undefined : Number(t.args[0]);
  if (dialect === "mysql") {
    const bits = INT_BITS[t.base];
    if (bits !== undefined) return integer(bits, t.unsigned);
    if (DECIMALS.has(t.base)) return { kind: "decimal", digits: (n ?? 10) - Number(t.args[1] ?? 0), scale: Number(t.args[1] ?? 0) };
    switch (t.base) {
      case "float":
        return { kind: "float", bits: 32, special: false };
      case "double":
      case "real":
      case "double precision":
        return { kind: "float", bits: 64, special: false };
      case "bit":
        return (n ?? 1) === 1 ? { kind: "boolean" } : { kind: "bits", bits: n };
      case "boolean":
      case "bool":
        return integer(8, false);
      case "char":
      case "varchar":
        return { kind: "text", chars: n, nul: true };
      case "tinytext":
      case "text":
      case "mediumtext":
        // bytes of utf8mb4: a character may take 4
        return { kind: "text", chars: Math.floor(TEXT_BYTES[t.base]! / 4), nul: true };
      case "longtext":
        return { kind: "text", nul: true };
      case "binary":
      case "varbinary":
        return { kind: "bytes", bytes: n };
      case "tinyblob":
      case "blob":
      case "mediumblob":
        return { kind: "bytes", bytes: BLOB_BYTES[t.base] };
      case "longblob":
        return { kind: "bytes" };
      case "json":
        return { kind: "json", nul: true };
      case "enum":
      case "set":
        return { kind: "labels", set: t.base === "set", labels: t.args, errorValue: t.base === "enum" };
      case "year":
        return { kind: "integer", min: 0n, max: 2155n };
      case "date":
        return { kind: "date", from: 1, to: 9999, special: false };
      case "datetime":
        return { kind: "timestamp", from: 1, to: 9999, fraction: fraction(t, dialect), special: false };
      case "timestamp":
        // 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC
        return { kind: "timestamp", from: 1970, to: 2037, fraction: fraction(t, dialect), special: false };
      case "time":
        return { kind: "time", min: -MYSQL_TIME_MAX, max: MYSQL_TIME_MAX, fraction: fraction(t, dialect) };
      case "uuid":
        return { kind: "uuid" };
      case "inet4":
      case "inet6":
        return { kind: "textual", what: "network addresses", chars: 39 };
    }
    return undefined;
  }
  switch (t.base) {
    case "smallint":
      return integer(16, false);
    case "integer":
    case "int":
      return integer(32, false);
    case "bigint":
      return integer(64, false);
    case "oid":
      return integer(32, true);
    case "numeric":
    case "decimal":
      return n === undefined ? { kind: "number" } : { kind: "decimal", digits: n - Number(t.args[1] ?? 0), scale: Number(t.args[1] ?? 0) };
    case "real":
      return { kind: "float", bits: 32, special: true };
    case "double precision":
      return { kind: "float", bits: 64, special: true };
    case "boolean":
      return { kind: "boolean" };
    case "character varying":
    case "varchar":
    case "character":
    case "char":
    case "bpchar":
      return { kind: "text", chars: n, nul: false };
    case "text":
    case "name":
    case "citext":
    case "xml":
      return { kind: "text", nul: false };
    case "bytea":
      return { kind: "bytes" };
    case "json":
    case "jsonb":
      return { kind: "json", nul: t.base === "json" };
    case "uuid":
      return { kind: "uuid" };
    case "inet":
    case "cidr":
    case "macaddr":
    case "macaddr8":
      return { kind: "textual", what: "network addresses", chars: 43 };
    case "date":
      return { kind: "date", from: -4713, to: 5_874_897, special: true };
    case "timestamp without time zone":
    case "timestamp":
    case "timestamp with time zone":
      return { kind: "timestamp", from: -4713, to: 294_276, fraction: fraction(t, dialect), special: true };
    case "time without time zone":
    case "time":
      return { kind: "time", min: 0, max: 24 * HOUR, fraction: fraction(t, dialect) };
    case "time with time zone":
      return { kind: "textual", what: "times with an offset", chars: 21 };
    case "interval":
      return { kind: "interval" };
    case "bit":
      return (n ?? 1) === 1 ? { kind: "boolean" } : { kind: "bits", bits: n };
    case "bit varying":
      return { kind: "bits", bits: n };
  }
  return undefined;
}

/** What a field can carry: its source column's domain where it records one, else its Avro type's. */
export function fieldDomain(field: Pick<AvroField, "type">): Domain | undefined {
  const { type } = fieldType(field);
  const parameters = type["connect.parameters"] as Record<string, string> | undefined;
  const sqlType = parameters?.[SQL_TYPE_PARAMETER];
  const dialect = parameters?.[SQL_DIALECT_PARAMETER];
  if (sqlType && (dialect === "mysql" || dialect === "postgres")) {
    const source = columnDomain({ sqlType, dialect, enumValues: dialect === "postgres" ? enumLabels(parameters) : undefined });
    if (source) return source;
  }
  return avroDomain(type, Array.isArray(field.type) ? field.type : [field.type]);
}

function avroDomain(type: Record<string, unknown>, branches: readonly unknown[]): Domain | undefined {
  // a text branch beside a date or time carries what the logical type cannot (mapping.ts orText)
  const special = branches.some((b) => typeof b === "object" && b !== null && (b as Record<string, unknown>)["connect.name"] === TEMPORAL_TEXT_NAME);
  switch (type["connect.name"]) {
    case JSON_NAME:
      return { kind: "json", nul: true };
    case INTERVAL_NAME:
      return { kind: "interval" };
    case MICRO_TIME_NAME:
      return { kind: "time", min: -Infinity, max: Infinity, fraction: 6 };
    case NUMERIC_NAME:
      return { kind: "number" };
  }
  switch (type.logicalType) {
    case "decimal":
      return { kind: "decimal", digits: Number(type.precision) - Number(type.scale ?? 0), scale: Number(type.scale ?? 0) };
    case "date":
      return { kind: "date", from: 1, to: 9999, special };
    case "timestamp-micros":
    case "local-timestamp-micros":
      return { kind: "timestamp", from: 1, to: 9999, fraction: 6, special };
    case "time-micros":
      return { kind: "time", min: 0, max: special ? 24 * HOUR : 24 * HOUR - 1, fraction: 6 };
    case "uuid":
      return { kind: "uuid" };
  }
  switch (type.type) {
    case "boolean":
      return { kind: "boolean" };
    case "int":
      return integer(32, false);
    case "long":
      return integer(64, false);
    case "float":
      return { kind: "float", bits: 32, special: true };
    case "double":
      return { kind: "float", bits: 64, special: true };
    case "string":
    case "enum":
      return { kind: "text", nul: true };
    case "bytes":
    case "fixed":
      return { kind: "bytes" };
    case "record":
    case "map":
      return { kind: "json", nul: true };
    case "array": {
      const items = avroDomain(fieldType({ type: type.items as AvroField["type"] }).type, []);
      return items && { kind: "array", items };
    }
  }
  return undefined;
}

const digitsOf = (n: bigint) => (n < 0n ? -n : n).toString().length;

/** The longest text a value of the domain takes; undefined when unbounded or not text at all. */
function textLength(d: Domain): number | undefined {
  switch (d.kind) {
    case "integer":
      return Math.max(digitsOf(d.min) + (d.min < 0n ? 1 : 0), digitsOf(d.max));
    case "decimal":
      return d.digits + d.scale + 2;
    case "float":
      return 24;
    case "boolean":
      return 5;
    case "text":
      return d.chars;
    case "bits":
      return d.bits;
    case "uuid":
      return 36;
    case "interval":
      return 64;
    case "labels":
      return d.set ? d.labels.reduce((n, l) => n + l.length + 1, 0) : Math.max(0, ...d.labels.map((l) => l.length));
    case "date":
      return 13;
    case "timestamp":
      return 33;
    case "time":
      return 18;
    case "textual":
      return d.chars;
    default:
      return undefined;
  }
}

const WORDS: Record<Domain["kind"], string> = {
  integer: "integers",
  decimal: "decimals",
  number: "numbers of any scale",
  float: "floating-point numbers",
  boolean: "booleans",
  text: "text",
  bytes: "binary values",
  bits: "bit strings",
  json: "JSON documents",
  uuid: "UUIDs",
  interval: "intervals of months, days and time",
  labels: "labels",
  date: "dates",
  timestamp: "timestamps",
  time: "durations",
  array: "arrays",
  textual: "values",
};

const range = (min: bigint, max: bigint) => `${min}..${max}`;

/** What of `source` a column of domain `target` cannot hold; empty when it holds all of it. */
export function gaps(source: Domain, target: Domain): Gap[] {
  const ordinary = (values: string): Gap[] => [{ values, exceptional: false }];
  const special = (values: string): Gap[] => [{ values, exceptional: true }];
  // past a length the source declares, values are ordinary; past an unbounded type's, a design
  // that chose `text` over `varchar(n)` says nothing about how long its values are
  const longer = (values: string, unbounded: boolean): Gap[] => [{ values, exceptional: unbounded, length: true }];
  const s = source;
  const t = target;
  // MySQL keeps arrays and sets as JSON, whose numbers hold no NaN, infinity or -0 (to-sql.ts refuses them)
  if (t.kind === "json" && s.kind === "array" && s.items.kind === "float" && s.items.special) return special("NaN, Infinity, -Infinity and -0 in an array (JSON has no such numbers)");
  if (t.kind === "json" && (s.kind === "array" || (s.kind === "labels" && s.set))) return [];
  if (t.kind === "text") {
    // every value but bytes has an exact text, which a text column keeps
    if (s.kind === "bytes") return ordinary("binary values (the column holds text)");
    // PostgreSQL refuses U+0000 in any text: a legacy column that holds one is rare, never changed
    const nul = s.kind === "text" && s.nul && !t.nul ? special("text with NUL characters (U+0000)") : [];
    const longest = textLength(s);
    if (t.chars === undefined || (longest !== undefined && longest <= t.chars)) return nul;
    return [...longer(`${WORDS[s.kind]} longer than ${t.chars} characters`, longest === undefined), ...nul];
  }
  switch (s.kind) {
    case "integer":
      if (t.kind === "integer") return s.min < t.min || s.max > t.max ? ordinary(`integers outside ${range(t.min, t.max)}`) : [];
      if (t.kind === "decimal") return digitsOf(s.min) > t.digits || digitsOf(s.max) > t.digits ? ordinary(`integers of more than ${t.digits} digits`) : [];
      if (t.kind === "number") return [];
      if (t.kind === "float") {
        const exact = 2n ** (t.bits === 32 ? 24n : 53n);
        return s.min < -exact || s.max > exact ? ordinary(`integers beyond ±${exact}, which a ${t.bits}-bit float rounds`) : [];
      }
      if (t.kind === "boolean" || t.kind === "bits") return s.min >= 0n && s.max <= 1n ? [] : ordinary("integers other than 0 and 1");
      break;
    case "decimal":
      if (t.kind === "decimal") {
        const out: Gap[] = [];
        if (s.digits > t.digits) out.push(...ordinary(`decimals of more than ${t.digits} integer digits`));
        if (s.scale > t.scale) out.push(...ordinary(`decimals of more than ${t.scale} fraction digits, which it would round`));
        return out;
      }
      if (t.kind === "number") return [];
      if (t.kind === "integer" && s.scale === 0) return gaps({ kind: "integer", min: -(10n ** BigInt(s.digits) - 1n), max: 10n ** BigInt(s.digits) - 1n }, t);
      break;
    case "number":
      if (t.kind === "number") return [];
      break;
    case "float":
      if (t.kind === "float") {
        if (s.bits > t.bits) return ordinary("64-bit floating-point numbers, which a 32-bit float rounds");
        return s.special && !t.special ? special("NaN, Infinity, -Infinity and -0") : [];
      }
      if (t.kind === "number") return [];
      break;
    case "boolean":
      if (t.kind === "boolean" || (t.kind === "integer" && t.min <= 0n && t.max >= 1n) || t.kind === "bits") return [];
      break;
    case "text":
      break;
    case "textual":
      if (t.kind === "textual" && t.what === s.what) return [];
      break;
    case "bytes":
      if (t.kind === "bytes") return t.bytes !== undefined && (s.bytes === undefined || s.bytes > t.bytes) ? longer(`binary values longer than ${t.bytes} bytes`, s.bytes === undefined) : [];
      break;
    case "bits":
      if (t.kind === "bits" || t.kind === "bytes") {
        const room = t.kind === "bits" ? t.bits : t.bytes === undefined ? undefined : t.bytes * 8;
        return room !== undefined && (s.bits === undefined || s.bits > room) ? longer(`bit strings longer than ${room} bits`, s.bits === undefined) : [];
      }
      break;
    case "json":
      if (t.kind === "json") return s.nul && !t.nul ? special("JSON with \\u0000 in a string (jsonb holds no NUL character)") : [];
      break;
    case "uuid":
      if (t.kind === "uuid") return [];
      break;
    case "interval":
      if (t.kind === "interval") return [];
      break;
    case "labels":
      if (t.kind === "labels" && t.set === s.set) {
        const missing = s.labels.filter((l) => !t.labels.includes(l));
        // the sink's strict session refuses the error value unless '' is a label of the target
        const error = s.errorValue && !t.labels.includes("") ? special("the ENUM error value '' (index 0)") : [];
        return [...(missing.length > 0 ? ordinary(`the labels ${missing.map((l) => JSON.stringify(l)).join(", ")}`) : []), ...error];
      }
      if (s.set && t.kind === "array") return gaps({ kind: "text", chars: Math.max(0, ...s.labels.map((l) => l.length)), nul: false }, t.items);
      break;
    case "date":
      if (t.kind === "date" || t.kind === "timestamp") return calendarGaps(s, t);
      break;
    case "timestamp":
      if (t.kind === "timestamp") {
        const out = calendarGaps(s, t);
        if (s.fraction > t.fraction) out.unshift(...ordinary(`timestamps with more than ${t.fraction} fraction digits, which it would round`));
        return out;
      }
      break;
    case "time":
      if (t.kind === "interval") return [];
      if (t.kind === "time") {
        const out: Gap[] = [];
        if (s.min < t.min) out.push(...ordinary(t.min === 0 ? "negative durations" : `durations below -${hours(t.min)}`));
        if (s.max > t.max) out.push(...ordinary(`durations past ${hours(t.max)}`));
        if (s.fraction > t.fraction) out.push(...ordinary(`times with more than ${t.fraction} fraction digits, which it would round`));
        return out;
      }
      break;
    case "array":
      if (t.kind === "array") return gaps(s.items, t.items);
      break;
  }
  return ordinary(`${WORDS[s.kind]} (the column holds ${WORDS[t.kind]})`);
}

function calendarGaps(s: Extract<Domain, { kind: "date" | "timestamp" }>, t: Extract<Domain, { kind: "date" | "timestamp" }>): Gap[] {
  const out: Gap[] = [];
  // years outside 0001–9999 come only with the special values (PostgreSQL's own calendar)
  const from = s.special ? Math.max(s.from, 1) : s.from;
  const to = s.special ? Math.min(s.to, 9999) : s.to;
  if (from < t.from || to > t.to) out.push({ values: `years outside ${t.from}–${t.to}`, exceptional: false });
  if (s.special && !t.special) out.push({ values: "infinity, -infinity and years before 0001 or after 9999", exceptional: true });
  return out;
}

function hours(micros: number): string {
  const h = Math.floor(Math.abs(micros) / HOUR);
  const rest = Math.abs(micros) % HOUR;
  const m = Math.floor(rest / 60_000_000);
  const sec = (rest % 60_000_000) / 1_000_000;
  return `${h}:${String(m).padStart(2, "0")}:${sec.toFixed(6).padStart(9, "0").replace(/\.?0+$/, "")}`;
}
