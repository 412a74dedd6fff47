/**
 * THE table where SQL types meet Avro: for each MySQL/MariaDB and PostgreSQL column type, the Avro
 * type of its field and the converter from what the drivers hand over (mysql2 with
 * MYSQL_READ_OPTIONS, pg with PG_READ_OPTIONS, zongji's binlog rows) to the canonical JS form of
 * values.ts. `MAPPING` is data: the README's table is `mappingMarkdown()` (mapping-doc.ts). The way back (Avro to
 * SQL types and parameters) is in to-sql.ts.
 *
 * Every field carries its source column type in `connect.parameters` (Kafka Connect's place for
 * such facts), so a sink on the same dialect can recreate the column exactly: ENUM labels,
 * VARCHAR lengths, UNSIGNED, INET6 all survive the trip.
 */
import { DataError, ErrorCode, LiberatorError, PreconditionError } from "../errors.js";
import { COLUMN_ATTRIBUTE } from "../avro/canonical.js";
import { avroType, MICRO_TIME_NAME, TEMPORAL_TEXT_NAME } from "../avro/logical-types.js";
import { canonicalDate, canonicalTime, canonicalTimestamp, daysOfDate, invalidValue, mysqlZeroDate, parseTime, parseTimestamp, toDecimal, toInt, toLong, toUuid, twosComplement, unscaledDecimal } from "../avro/values.js";
import { parsePgArray, toBytes, toInet4, toInet6 } from "./driver-values.js";

export type Dialect = "mysql" | "postgres";

/** A column as the source database describes it (introspect.ts reads these). */
export interface ColumnInfo {
  name: string;
  dialect: Dialect;
  /**
   * MySQL/MariaDB: information_schema COLUMN_TYPE ("decimal(10,2) unsigned", "enum('a','b')",
   * "datetime(6)", "bit(64)"), with MariaDB's JSON (a LONGTEXT with a json_valid check) as "json".
   * PostgreSQL: format_type() ("numeric(10,2)", "timestamp with time zone", "integer[]"), or the
   * name of an enum type together with `enumValues`.
   */
  sqlType: string;
  nullable: boolean;
  /** A literal default, spelled as the driver reads the value back; undefined for none or an expression. */
  defaultValue?: string | undefined;
  /** Labels of a PostgreSQL enum type, in order. */
  enumValues?: readonly string[] | undefined;
}

export type ZeroDatePolicy = "null" | "error";

export interface MapOptions {
  /**
   * MySQL's zero date ("0000-00-00", "0000-00-00 00:00:00"): "null" makes every MySQL date and
   * time field nullable and reads it as null; "error" (default) stops at the first one.
   */
  zeroDates?: ZeroDatePolicy;
  /**
   * MySQL dates with a zero month, day or year beside other parts ("2020-00-15", "2020-01-00
   * 10:00:00.5", "0000-01-01"), which are no calendar date either: their own choice, so that
   * reading the zero date as null never turns a partly known date into null unasked.
   */
  partialZeroDates?: ZeroDatePolicy;
}

/** An Avro type as JSON, as this table builds them. */
export type AvroTypeSchema = string | { type: string | AvroTypeSchema; [attribute: string]: unknown } | AvroTypeSchema[];

export interface AvroField {
  name: string;
  type: AvroTypeSchema;
  default?: unknown;
  doc?: string;
  [COLUMN_ATTRIBUTE]?: string;
  /** Our own field properties (`liberator.pii`, stream metadata). */
  [property: `liberator.${string}`]: unknown;
}

export interface MappedColumn {
  /** The SQL column name. */
  column: string;
  /** Its Avro field: a valid Avro name (the column's own when it is one), the type, the default. */
  field: AvroField;
  /** A driver value in the canonical form; null and undefined give null. Throws DataError naming the column. */
  fromDriver(value: unknown): unknown;
  /** The SELECT-list expression that reads the column exactly, given its quoted name. */
  select(quoted: string): string;
  rule: MappingRule;
  /** Set when a zero-date policy reads some values of the column as null (a key must not become null). */
  zeroDatesAsNull: boolean;
}

/** A column type, parsed: base name, arguments, flags. */
export interface SqlType {
  base: string;
  args: string[];
  unsigned: boolean;
  array: boolean;
}

interface Built {
  type: AvroTypeSchema;
  fromDriver(value: unknown): unknown;
  select?: (quoted: string) => string;
  /** Nullable whatever the column says (MySQL dates under zeroDates: "null"). */
  nullable?: boolean;
}

export interface MappingRule {
  dialect: Dialect;
  /** Type names as the database spells them, arguments stripped. */
  sql: readonly string[];
  /** The condition on arguments or flags, in words (for the README). */
  when?: string;
  /** The Avro type, in words. */
  avro: string;
  /** The canonical JS value, in words. */
  js: string;
  notes?: string;
  /** Matches whatever the type's name (arrays, enum types): `matches` alone decides. */
  anyName?: boolean;
  /** A column of this row for the README's target columns, where `sql[0]` alone is none ("decimal(12,4)"). */
  example?: Pick<ColumnInfo, "sqlType" | "enumValues">;
  matches?(t: SqlType, column: ColumnInfo): boolean;
  build(t: SqlType, column: ColumnInfo, options: Required<MapOptions>): Built;
}

// ---------------------------------------------------------------------------------------------
// Avro building blocks

export const JSON_NAME = "io.debezium.data.Json";
export const ENUM_NAME = "io.debezium.data.Enum";
/** Unconstrained PostgreSQL NUMERIC: exact text (see its row). */
export const NUMERIC_NAME = "io.liberator.data.Numeric";
export const INTERVAL_NAME = "io.debezium.time.Interval";
export const SQL_DIALECT_PARAMETER = "liberator.sql.dialect";
export const SQL_TYPE_PARAMETER = "liberator.sql.type";
/**
 * An enum's labels, exactly: a JSON array. `allowed` (Debezium's, kept for its readers) joins them
 * with commas, so a label "a,b" reads back as two; ours is the one read.
 */
export const ENUM_LABELS_PARAMETER = "liberator.enum.labels";

/** The labels of an enum field, from its exact parameter; undefined without one (Debezium's `allowed` alone is ambiguous). */
export function enumLabels(parameters: Record<string, string> | undefined): string[] | undefined {
  const json = parameters?.[ENUM_LABELS_PARAMETER];
  return json === undefined ? undefined : (JSON.parse(json) as string[]);
}

const enumParameters = (labels: readonly string[]) => ({ allowed: labels.join(","), [ENUM_LABELS_PARAMETER]: JSON.stringify(labels) });

const logical = (type: string, logicalType: string, extra: Record<string, unknown> = {}) => ({ type, logicalType, ...extra });
const decimal = (precision: number, scale: number) => logical("bytes", "decimal", { precision, scale });
const named = (type: string, name: string) => ({ type, "connect.name": name });

// ---------------------------------------------------------------------------------------------
// Converters from driver values

function toBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (Buffer.isBuffer(v) && v.length === 1) return v[0] !== 0;
  if (v === 1 || v === 0) return v === 1;
  if (v === "t" || v === "true" || v === "1") return true;
  if (v === "f" || v === "false" || v === "0") return false;
  throw invalidValue("boolean", v);
}

function toText(v: unknown): string {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return new TextDecoder("utf-8", { fatal: true }).decode(v);
  throw invalidValue("string", v);
}

/** Numbers as the drivers give them: numbers, or text (PostgreSQL's "NaN", "Infinity" included). */
function toDouble(v: unknown): number {
  if (typeof v === "number") return v;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (Number.isNaN(n) && v !== "NaN") throw invalidValue("number", v);
  return n;
}

const toFloat = (v: unknown): number => Math.fround(toDouble(v));

/** MySQL BIT(n): zongji and mysql2 both give big-endian bytes; shorter ones are left-padded. */
function toBits(v: unknown, bits: number): Buffer {
  const size = Math.ceil(bits / 8);
  if (!Buffer.isBuffer(v) || v.length > size) throw invalidValue(`bit(${bits})`, v);
  if (v.length === size) return v;
  const out = Buffer.alloc(size);
  v.copy(out, size - v.length);
  return out;
}

function toSet(v: unknown): string[] {
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  if (typeof v === "string") return v === "" ? [] : v.split(",");
  throw invalidValue("set", v);
}

function toNumericText(v: unknown): string {
  const s = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s === "string" && /^(-?\d+(\.\d+)?|NaN|-?Infinity)$/.test(s)) return s;
  throw invalidValue("numeric", v);
}

/** MySQL DATE, DATETIME and TIMESTAMP: text only (a JS Date lost the microseconds), zero dates by policy. */
function mysqlTemporal(underlying: string, logicalType: string, convert: (text: string) => string): MappingRule["build"] {
  return (_t, column, options) => ({
    type: logical(underlying, logicalType),
    nullable: options.zeroDates === "null" || options.partialZeroDates === "null",
    fromDriver: (v: unknown): string | null => {
      if (typeof v !== "string") {
        throw invalidValue(column.sqlType, v, "read MySQL dates as text: mysql2 and zongji need dateStrings: true (MYSQL_READ_OPTIONS)");
      }
      const zero = mysqlZeroDate(v);
      if (zero === undefined) return convert(v);
      const [setting, what] = zero === "zero" ? (["zeroDates", "the zero date"] as const) : (["partialZeroDates", "a date with a zero month, day or year"] as const);
      if (options[setting] === "null") return null;
      throw new DataError(ErrorCode.SCHEMA_ZERO_DATE, `${JSON.stringify(v)} is ${what}, which no calendar has`, {
        fix: `set ${setting}: null to read such values as null, or fix the rows`,
      });
    },
  });
}

/**
 * A PostgreSQL date, timestamp or time: the logical type for what decoders hold, and a text
 * branch for the rest (infinities, years outside 0001-9999, 24:00:00), so that no value is
 * refused, none is changed, and no consumer's decoder fails on one (values.ts isTemporalText).
 */
const orText = (type: AvroTypeSchema): AvroTypeSchema => [type, named("string", TEMPORAL_TEXT_NAME)];

// ---------------------------------------------------------------------------------------------
// The table

const int = (t: SqlType) => Number(t.args[0]);

export const MAPPING: readonly MappingRule[] = [
  // MySQL / MariaDB
  {
    dialect: "mysql",
    sql: ["int", "integer"],
    when: "unsigned",
    example: { sqlType: "int(10) unsigned" },
    avro: "long",
    js: "bigint",
    matches: (t) => t.unsigned,
    build: () => ({ type: "long", fromDriver: toLong }),
  },
  {
    dialect: "mysql",
    sql: ["tinyint", "smallint", "mediumint", "int", "integer"],
    when: "signed or unsigned",
    example: { sqlType: "smallint(6)" },
    avro: "int",
    js: "number",
    notes: "TINYINT(1)/BOOLEAN stays an int: it holds -128..127, not only 0 and 1.",
    build: () => ({ type: "int", fromDriver: toInt }),
  },
  {
    dialect: "mysql",
    sql: ["bigint"],
    when: "unsigned",
    example: { sqlType: "bigint(20) unsigned" },
    avro: "bytes, decimal(20,0)",
    js: 'string "18446744073709551615"',
    notes: "A long cannot hold 2^64-1; never a double.",
    matches: (t) => t.unsigned,
    build: () => ({ type: decimal(20, 0), fromDriver: (v) => toDecimal(v, 20, 0) }),
  },
  { dialect: "mysql", sql: ["bigint"], when: "signed", avro: "long", js: "bigint", build: () => ({ type: "long", fromDriver: toLong }) },
  {
    dialect: "mysql",
    sql: ["decimal", "numeric", "dec", "fixed"],
    when: "(p,s)",
    example: { sqlType: "decimal(12,4)" },
    avro: "bytes, decimal(p,s)",
    js: 'string "-12.340" (exactly s fraction digits)',
    notes: "DECIMAL without arguments is DECIMAL(10,0).",
    build: (t) => {
      const p = t.args[0] === undefined ? 10 : int(t);
      const s = Number(t.args[1] ?? 0);
      return { type: decimal(p, s), fromDriver: (v) => toDecimal(v, p, s) };
    },
  },
  {
    dialect: "mysql",
    sql: ["float"],
    avro: "float",
    js: "number (a float32 value)",
    notes: "The text protocol prints FLOAT with 6 digits: it is selected as CAST(… AS DOUBLE), which is exact.",
    build: () => ({ type: "float", fromDriver: toFloat, select: (q) => `CAST(${q} AS DOUBLE)` }),
  },
  {
    dialect: "mysql",
    sql: ["double", "real", "double precision"],
    avro: "double",
    js: "number",
    notes: "Read through the binary protocol (its 8 bytes): mysql2's parsing of the text is one unit in the last place off for about a quarter of values.",
    build: () => ({ type: "double", fromDriver: toDouble }),
  },
  {
    dialect: "mysql",
    sql: ["bit"],
    when: "(1)",
    example: { sqlType: "bit(1)" },
    avro: "boolean",
    js: "boolean",
    matches: (t) => (t.args[0] ?? "1") === "1",
    build: () => ({ type: "boolean", fromDriver: toBoolean }),
  },
  {
    dialect: "mysql",
    sql: ["bit"],
    when: "(n), n > 1",
    example: { sqlType: "bit(12)" },
    avro: "bytes",
    js: "Buffer, ceil(n/8) bytes, big-endian",
    build: (t) => ({ type: "bytes", fromDriver: (v) => toBits(v, int(t)) }),
  },
  {
    dialect: "mysql",
    sql: ["char", "varchar", "tinytext", "text", "mediumtext", "longtext"],
    example: { sqlType: "varchar(64)" },
    avro: "string",
    js: "string (utf8mb4, exact)",
    notes:
      "MariaDB text may hold NUL (U+0000), PostgreSQL's text cannot: the sink names such columns at start, and a row carrying one is refused when it comes (a data error, SINK_ROW_REFUSED: errors.tolerance sends it to the dead-letter topic or stops the sink), never changed.",
    build: () => ({ type: "string", fromDriver: toText }),
  },
  {
    dialect: "mysql",
    sql: ["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"],
    example: { sqlType: "varbinary(16)" },
    avro: "bytes",
    js: "Buffer",
    build: () => ({ type: "bytes", fromDriver: toBytes }),
  },
  {
    dialect: "mysql",
    sql: ["json"],
    avro: `string, connect.name ${JSON_NAME}`,
    js: "string (the stored JSON text)",
    notes:
      'MariaDB\'s JSON is a LONGTEXT with a json_valid() check; introspect.ts reports it as "json". PostgreSQL\'s json keeps the document as written; jsonb would reorder keys, drop duplicates and refuse \\u0000 (an existing jsonb column is named at start; such a row is refused as for text).',
    build: () => ({ type: named("string", JSON_NAME), fromDriver: toText }),
  },
  {
    dialect: "mysql",
    sql: ["enum"],
    example: { sqlType: "enum('a','b')" },
    avro: `string, connect.name ${ENUM_NAME}`,
    js: "string",
    notes:
      "Labels exactly in connect.parameters liberator.enum.labels (a JSON array), and comma-joined in allowed as Debezium writes them (a label with a comma reads back as two there); an Avro enum cannot hold every label MySQL allows. information_schema shows a label's 4-byte characters as '?': the exact labels are read by a query that stores each index in a value of the column's own type (introspect.ts). The error value '' (index 0, written outside strict mode) is named at start for a MariaDB target, which refuses it.",
    build: (t) => ({ type: { ...named("string", ENUM_NAME), "connect.parameters": enumParameters(t.args) }, fromDriver: toText }),
  },
  {
    dialect: "mysql",
    sql: ["set"],
    example: { sqlType: "set('a','b')" },
    avro: "array<string>",
    js: 'string[] in definition order ("" is [])',
    build: () => ({ type: { type: "array", items: "string" }, fromDriver: toSet }),
  },
  { dialect: "mysql", sql: ["year"], avro: "int", js: "number (0 for YEAR 0000)", build: () => ({ type: "int", fromDriver: toInt }) },
  {
    dialect: "mysql",
    sql: ["date"],
    avro: "int, date",
    js: '"YYYY-MM-DD"',
    notes:
      'The zero date 0000-00-00 follows zeroDates; dates with a zero month, day or year (2020-00-15, 0000-01-01) follow partialZeroDates (each "error", the default, or null): no calendar has them, and a year 0 is outside what decoders hold. Neither may be null in a key column: refused at start.',
    build: mysqlTemporal("int", "date", canonicalDate),
  },
  {
    dialect: "mysql",
    sql: ["datetime"],
    example: { sqlType: "datetime(6)" },
    avro: "long, local-timestamp-micros",
    js: '"YYYY-MM-DDTHH:MM:SS.ffffff"',
    notes: "Wall-clock time, no zone shift; 0001-01-01 to 9999-12-31 23:59:59.999999 exact. Zero dates as for DATE.",
    build: mysqlTemporal("long", "local-timestamp-micros", (s) => canonicalTimestamp(s, false)),
  },
  {
    dialect: "mysql",
    sql: ["timestamp"],
    example: { sqlType: "timestamp(6)" },
    avro: "long, timestamp-micros",
    js: '"YYYY-MM-DDTHH:MM:SS.ffffffZ"',
    notes: "Read in a UTC session (MYSQL_SESSION_SQL). The zero TIMESTAMP follows zeroDates.",
    build: mysqlTemporal("long", "timestamp-micros", (s) => canonicalTimestamp(s, true)),
  },
  {
    dialect: "mysql",
    sql: ["time"],
    example: { sqlType: "time(6)" },
    avro: `long, connect.name ${MICRO_TIME_NAME} (duration, microseconds)`,
    js: '"-838:59:59.000000"',
    notes:
      "A duration in MySQL (-838:59:59 to 838:59:59), not a time of day: Avro's time-micros would make standard decoders fail on negative values and hours past 23. A plain long of microseconds, named as Debezium names it, which every decoder reads.",
    build: () => ({ type: named("long", MICRO_TIME_NAME), fromDriver: (v) => canonicalTime(toText(v)) }),
  },
  {
    dialect: "mysql",
    sql: ["uuid"],
    avro: "string, uuid",
    js: "lowercase UUID text",
    notes: "MariaDB 10.7+; the binlog's raw 16 bytes are formatted.",
    build: () => ({ type: logical("string", "uuid"), fromDriver: toUuid }),
  },
  {
    dialect: "mysql",
    sql: ["inet4", "inet6"],
    avro: "string",
    js: "address text as MariaDB prints it",
    notes: "MariaDB 10.5+/10.10+; the binlog's raw bytes are formatted.",
    build: (t) => ({ type: "string", fromDriver: t.base === "inet4" ? toInet4 : toInet6 }),
  },

  // PostgreSQL
  { dialect: "postgres", sql: ["smallint", "integer"], avro: "int", js: "number", build: () => ({ type: "int", fromDriver: toInt }) },
  { dialect: "postgres", sql: ["bigint", "oid"], avro: "long", js: "bigint", build: () => ({ type: "long", fromDriver: toLong }) },
  {
    dialect: "postgres",
    sql: ["numeric"],
    when: "(p,s)",
    example: { sqlType: "numeric(12,4)" },
    avro: "bytes, decimal(p,s)",
    js: 'string "-12.340"',
    notes: "NaN has no decimal form: refused.",
    matches: (t) => t.args.length > 0,
    build: (t) => {
      const p = int(t);
      const s = Number(t.args[1] ?? 0);
      return { type: decimal(p, s), fromDriver: (v) => toDecimal(v, p, s) };
    },
  },
  {
    dialect: "postgres",
    sql: ["numeric"],
    when: "without precision",
    avro: `string, connect.name ${NUMERIC_NAME}`,
    js: 'string "123.4500", "NaN", "Infinity"',
    notes:
      "Avro's decimal fixes one scale per schema; an unconstrained NUMERIC has one per value (and NaN, ±Infinity). Its exact text keeps every value and its scale.",
    build: () => ({ type: named("string", NUMERIC_NAME), fromDriver: toNumericText }),
  },
  { dialect: "postgres", sql: ["real"], avro: "float", js: "number (a float32 value); NaN, ±Infinity", build: () => ({ type: "float", fromDriver: toFloat }) },
  { dialect: "postgres", sql: ["double precision"], avro: "double", js: "number; NaN, ±Infinity", build: () => ({ type: "double", fromDriver: toDouble }) },
  { dialect: "postgres", sql: ["boolean"], avro: "boolean", js: "boolean", build: () => ({ type: "boolean", fromDriver: toBoolean }) },
  {
    dialect: "postgres",
    sql: ["character varying", "varchar", "character", "char", "bpchar", "text", "name", "citext", "xml"],
    avro: "string",
    js: "string (CHAR(n) keeps its padding)",
    build: () => ({ type: "string", fromDriver: toText }),
  },
  { dialect: "postgres", sql: ["bytea"], avro: "bytes", js: "Buffer", build: () => ({ type: "bytes", fromDriver: toBytes }) },
  {
    dialect: "postgres",
    sql: ["json", "jsonb"],
    avro: `string, connect.name ${JSON_NAME}`,
    js: "string (json: as stored; jsonb: PostgreSQL's normalized text)",
    build: () => ({ type: named("string", JSON_NAME), fromDriver: toText }),
  },
  { dialect: "postgres", sql: ["uuid"], avro: "string, uuid", js: "lowercase UUID text", build: () => ({ type: logical("string", "uuid"), fromDriver: toUuid }) },
  {
    dialect: "postgres",
    sql: ["inet", "cidr", "macaddr", "macaddr8"],
    avro: "string",
    js: "PostgreSQL's text",
    build: () => ({ type: "string", fromDriver: toText }),
  },
  {
    dialect: "postgres",
    sql: ["date"],
    avro: `union [int date, string ${TEMPORAL_TEXT_NAME}]`,
    js: '"YYYY-MM-DD"; "infinity", "-004712-01-01" (BC), "+010000-01-01" as text',
    notes:
      "Dates in years 0001-9999 are Avro dates. Infinities and years outside that range travel in the text branch, as their ISO 8601 text: Python's date cannot hold them (a date would raise OverflowError there), and a sentinel date would read as a real one in Java.",
    build: () => ({ type: orText(logical("int", "date")), fromDriver: (v) => canonicalDate(toText(v)) }),
  },
  {
    dialect: "postgres",
    sql: ["timestamp without time zone", "timestamp"],
    avro: `union [long local-timestamp-micros, string ${TEMPORAL_TEXT_NAME}]`,
    js: '"YYYY-MM-DDTHH:MM:SS.ffffff"; "infinity", BC and years past 9999 as text',
    notes: "As for date: years 0001-9999 as the logical type, infinities and other years (up to PostgreSQL's 294276) as text.",
    build: () => ({ type: orText(logical("long", "local-timestamp-micros")), fromDriver: (v) => canonicalTimestamp(toText(v), false) }),
  },
  {
    dialect: "postgres",
    sql: ["timestamp with time zone"],
    avro: `union [long timestamp-micros, string ${TEMPORAL_TEXT_NAME}]`,
    js: '"YYYY-MM-DDTHH:MM:SS.ffffffZ"; "infinity", BC and years past 9999 as text',
    notes: "As for date: instants in years 0001-9999 (UTC) as the logical type, infinities and other years as text.",
    build: () => ({ type: orText(logical("long", "timestamp-micros")), fromDriver: (v) => canonicalTimestamp(toText(v), true) }),
  },
  {
    dialect: "postgres",
    sql: ["time without time zone", "time"],
    avro: `union [long time-micros, string ${TEMPORAL_TEXT_NAME}]`,
    js: '"HH:MM:SS.ffffff"; "24:00:00.000000" as text',
    notes:
      "A time of day. PostgreSQL's 24:00:00 (the end of the day, after 23:59:59.999999, not equal to 00:00:00) is no time of day to Avro: time-micros 86,400,000,000 makes Java's and Python's decoders fail, and 00:00:00 or 23:59:59.999999 would be another value. It travels as its text.",
    build: () => ({ type: orText(logical("long", "time-micros")), fromDriver: (v) => canonicalTime(toText(v)) }),
  },
  {
    dialect: "postgres",
    sql: ["time with time zone"],
    avro: "string",
    js: 'PostgreSQL\'s text "23:59:59.999999+14:59"',
    notes: "Avro has no time with an offset.",
    build: () => ({ type: "string", fromDriver: toText }),
  },
  {
    dialect: "postgres",
    sql: ["interval"],
    avro: `string, connect.name ${INTERVAL_NAME}`,
    js: 'ISO 8601 "P1Y2M3DT4H5M6.789012S"',
    notes: "Months, days and microseconds kept apart (a single duration would merge them); read with IntervalStyle=iso_8601.",
    build: () => ({
      type: named("string", INTERVAL_NAME),
      fromDriver: (v) => {
        const s = toText(v);
        if (!/^-?P/.test(s)) throw invalidValue("ISO 8601 interval", v, "read with PG_READ_OPTIONS (IntervalStyle=iso_8601)");
        return s;
      },
    }),
  },
  {
    dialect: "postgres",
    sql: ["bit"],
    when: "(1)",
    example: { sqlType: "bit(1)" },
    avro: "boolean",
    js: "boolean",
    matches: (t) => (t.args[0] ?? "1") === "1",
    build: () => ({ type: "boolean", fromDriver: toBoolean }),
  },
  {
    dialect: "postgres",
    sql: ["bit", "bit varying"],
    when: "(n), varying",
    example: { sqlType: "bit varying(12)" },
    avro: "string",
    js: 'string of 0 and 1 "10101"',
    notes: "A bit string's length need not be whole bytes.",
    build: () => ({
      type: "string",
      fromDriver: (v) => {
        const s = toText(v);
        if (!/^[01]*$/.test(s)) throw invalidValue("bit string", v);
        return s;
      },
    }),
  },
  {
    dialect: "postgres",
    sql: ["enum type"],
    example: { sqlType: "mood", enumValues: ["sad", "ok"] },
    avro: `string, connect.name ${ENUM_NAME}`,
    js: "string",
    anyName: true,
    matches: (t, c) => !t.array && c.enumValues !== undefined,
    notes: "A MariaDB target gets an ENUM of the same labels where MariaDB keeps each one as it is (it strips trailing spaces), else a LONGTEXT.",
    build: (_t, c) => ({ type: { ...named("string", ENUM_NAME), "connect.parameters": enumParameters(c.enumValues!) }, fromDriver: toText }),
  },
  {
    dialect: "postgres",
    sql: ["T[]"],
    example: { sqlType: "integer[]" },
    avro: "array<null | T>",
    js: "array, null elements kept",
    notes: "One dimension starting at 1; other arrays are refused rather than flattened.",
    anyName: true,
    matches: (t) => t.array,
    build: (t, c, o) => {
      const element = buildType({ ...t, array: false }, c, o);
      return {
        type: { type: "array", items: ["null", ...branchesOf(element.type)] },
        fromDriver: (v) => {
          const items = typeof v === "string" ? parsePgArray(v) : Array.isArray(v) ? (v as unknown[]) : undefined;
          if (!items) throw invalidValue("array", v);
          return items.map((item) => (item === null || item === undefined ? null : element.fromDriver(item)));
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Parsing a column type and picking its row

/** "decimal(10,2) unsigned zerofill", "enum('a','it''s')", "timestamp(6) with time zone", "text[]". */
export function parseSqlType(sqlType: string, dialect: Dialect): SqlType {
  let s = sqlType.trim();
  let array = false;
  while (dialect === "postgres" && s.endsWith("[]")) {
    array = true;
    s = s.slice(0, -2).trim();
  }
  const flags = /((?:\s+(?:unsigned|signed|zerofill))*)$/i.exec(s)?.[1] ?? "";
  if (dialect === "mysql" && flags) s = s.slice(0, s.length - flags.length);
  const open = s.indexOf("(");
  const close = s.lastIndexOf(")");
  let base = s;
  let args: string[] = [];
  if (open >= 0 && close > open) {
    base = `${s.slice(0, open)} ${s.slice(close + 1)}`;
    const inner = s.slice(open + 1, close);
    args = inner.trim().startsWith("'") ? quotedList(inner) : inner.split(",").map((a) => a.trim());
  }
  base = base.replace(/\s+/g, " ").trim().toLowerCase();
  if (dialect === "postgres" && base.startsWith("interval")) base = "interval";
  return { base, args, unsigned: /unsigned/i.test(flags), array };
}

/** MySQL's escapes in a quoted string (other escaped characters stand for themselves). */
const UNESCAPED: Record<string, string> = { "0": "\0", n: "\n", r: "\r", t: "\t", b: "\b", Z: "\x1a" };

/** ENUM/SET labels as COLUMN_TYPE quotes them: 'a','it''s','line\nbreak','back\\slash'. */
function quotedList(text: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\]|''|\\.)*)'/gs;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!.replace(/''|\\(.)/gs, (_all, c: string | undefined) => (c === undefined ? "'" : (UNESCAPED[c] ?? c))));
  return out;
}

/**
 * Labels quoted as MariaDB writes them in COLUMN_TYPE and SHOW CREATE TABLE (append_unescaped:
 * NUL, newline, carriage return and backslash escaped, quotes doubled), so a spelling from the
 * binlog equals information_schema's, and a CREATE TABLE reads it back exactly (the sink's
 * sql_mode keeps backslash escapes).
 */
export function quoteMysqlLabels(labels: readonly string[]): string {
  const escapes: Record<string, string> = { "\0": "\\0", "\n": "\\n", "\r": "\\r", "\\": "\\\\", "'": "''" };
  return labels.map((l) => `'${l.replace(/[\0\n\r\\']/g, (c) => escapes[c]!)}'`).join(",");
}

function ruleFor(t: SqlType, column: ColumnInfo): MappingRule {
  // an array's element type is matched again, without the brackets, when the array row builds it
  const rule = MAPPING.find(
    (r) => r.dialect === column.dialect && (r.anyName || (!t.array && r.sql.includes(t.base))) && (r.matches?.(t, column) ?? true),
  );
  if (!rule) {
    throw new PreconditionError(ErrorCode.SCHEMA_TYPE_UNSUPPORTED, `column "${column.name}" has type ${column.sqlType}, which Liberator has no lossless Avro mapping for`, {
      fix: "exclude the column, or select it cast to a supported type in a custom query",
    });
  }
  return rule;
}

function buildType(t: SqlType, column: ColumnInfo, options: Required<MapOptions>): Built {
  return ruleFor(t, column).build(t, column, options);
}

/** A valid Avro name for a column: invalid characters become "_", a leading digit gets one. */
export function avroName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(clean) ? clean : `_${clean}`;
}

/** The field, the converter and the exact SELECT expression of one column. */
/** A type's union branches, or the type as its one branch. */
const branchesOf = (type: AvroTypeSchema): AvroTypeSchema[] => (Array.isArray(type) ? type : [type]);

export function mapColumn(column: ColumnInfo, options: MapOptions = {}): MappedColumn {
  const opts: Required<MapOptions> = { zeroDates: options.zeroDates ?? "error", partialZeroDates: options.partialZeroDates ?? "error" };
  const t = parseSqlType(column.sqlType, column.dialect);
  const rule = ruleFor(t, column);
  const built = rule.build(t, column, opts);
  const type = withSourceType(built.type, column);
  const name = avroName(column.name);
  const field: AvroField = { name, type };
  if (name !== column.name) field[COLUMN_ATTRIBUTE] = column.name;
  const convert = (value: unknown) => built.fromDriver(value);
  const fromDriver = (value: unknown): unknown => {
    if (value === null || value === undefined) return null;
    try {
      return convert(value);
    } catch (err) {
      if (err instanceof LiberatorError) {
        throw new DataError(err.code, `column "${column.name}" (${column.sqlType}): ${err.message}`, { cause: err, ...(err.fix ? { fix: err.fix } : {}) });
      }
      throw err;
    }
  };
  if (column.nullable || built.nullable) {
    field.type = ["null", ...branchesOf(type)];
    field.default = null;
  } else if (column.defaultValue !== undefined) {
    const value = defaultOf(fromDriver, column.defaultValue, branchesOf(type)[0]!);
    if (value !== undefined) field.default = value;
  }
  return { column: column.name, field, fromDriver, select: built.select ?? ((q) => q), rule, zeroDatesAsNull: !column.nullable && built.nullable === true };
}

/** Fields that carry their source column type: how sinks recreate the column on the same dialect (a union's first branch carries it). */
function withSourceType(type: AvroTypeSchema, column: ColumnInfo): AvroTypeSchema {
  if (Array.isArray(type)) return [withSourceType(type[0]!, column), ...type.slice(1)];
  const object: Record<string, unknown> = typeof type === "string" ? { type } : { ...(type as Record<string, unknown>) };
  const parameters = (object["connect.parameters"] as Record<string, string> | undefined) ?? {};
  object["connect.parameters"] = { ...parameters, [SQL_DIALECT_PARAMETER]: column.dialect, [SQL_TYPE_PARAMETER]: column.sqlType };
  return object as AvroTypeSchema;
}

/**
 * A column default as Avro's JSON default for the field (the encoding of the underlying type:
 * days for a date, microseconds for a timestamp, ISO-8859-1 code points for bytes). Undefined
 * when Avro JSON cannot hold it exactly (a long past 2^53, NaN), the literal is no valid value,
 * or it is no value of `type`, the union's first branch, which a default must be (infinity).
 */
function defaultOf(fromDriver: (v: unknown) => unknown, literal: string, type: AvroTypeSchema): unknown {
  let value: unknown;
  try {
    value = fromDriver(literal);
  } catch {
    return undefined;
  }
  if (value === null || !avroType(type as never).isValid(value)) return undefined;
  const t = type as { type: unknown; logicalType?: unknown; scale?: unknown; "connect.name"?: unknown };
  const exact = (n: number | bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : undefined);
  if (t["connect.name"] === MICRO_TIME_NAME) return parseTime(value as string);
  switch (t.logicalType) {
    case "decimal":
      return twosComplement(unscaledDecimal(value as string, Number(t.scale))).toString("latin1");
    case "date":
      return daysOfDate(value as string);
    case "time-micros":
      return parseTime(value as string);
    case "timestamp-micros":
    case "local-timestamp-micros":
      return exact(parseTimestamp(value as string, t.logicalType === "timestamp-micros"));
  }
  if (typeof value === "bigint") return exact(value);
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  if (typeof value === "number" && !Number.isFinite(value)) return undefined;
  return value;
}
