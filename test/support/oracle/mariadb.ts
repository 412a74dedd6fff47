import { quoteMysqlLabels } from "../../../src/runtime/sql-types/mapping.js";
/**
 * The MariaDB side of the oracle: one column per type and variant of the README's mapping table,
 * each with its edge values and a seeded generator (SQL literals, so the server parses them), the
 * expression the server renders it with (CAST(… AS CHAR), HEX() for bytes and text, the binary
 * protocol for FLOAT and DOUBLE), and how a delivered raw Avro value (avro.ts) is rendered the same
 * way. The comparison never goes through Liberator's own conversions.
 */
import { dateText, dateTimeText, decimalText, durationText, sixDigits, unscaled, type Raw } from "./avro.js";
import type { Random } from "./random.js";
import { clock, day, decimals, EVERY_BYTE, fraction, integers, json, nines, NOT_UTF8, p2, text } from "./values.js";

export type Kind =
  | "int" | "decimal" | "float" | "double" | "bit1" | "bits" | "text" | "bytes" | "set" | "year" | "date" | "datetime" | "timestamp" | "time" | "string";

export interface OracleColumn {
  name: string;
  /** The column's type in CREATE TABLE (every column is NULL-able). */
  ddl: string;
  kind: Kind;
  scale?: number;
  /** SQL literals written before any generated value. */
  edges: string[];
  generate(r: Random): string;
}

/** A string literal of exact UTF-8 bytes, whatever they hold (NUL, quotes, 4-byte characters). */
export const utf8 = (s: string) => `_utf8mb4 X'${Buffer.from(s, "utf8").toString("hex")}'`;
export const hex = (b: Buffer) => `X'${b.toString("hex")}'`;
const q = (s: string) => `'${s}'`;

function integer(name: string, ddl: string, min: bigint, max: bigint): OracleColumn {
  return { name, ddl, kind: "int", ...integers(min, max) };
}

function decimal(p: number, s: number, unsigned = false): OracleColumn {
  return { name: `dec_${p}_${s}${unsigned ? "_u" : ""}`, ddl: `DECIMAL(${p},${s})${unsigned ? " UNSIGNED" : ""}`, kind: "decimal", scale: s, ...decimals(p, s, unsigned) };
}

/** Zero and partial-zero dates: read as null under zeroDates: null and partialZeroDates: null. */
const ZERO_DATES = ["0000-00-00", "2020-00-15", "2020-01-00", "0000-01-01"];

function datetime(fsp: number): OracleColumn {
  return {
    name: `dt${fsp}`, ddl: `DATETIME(${fsp})`, kind: "datetime",
    edges: [`9999-12-31 23:59:59${nines(fsp)}`, "1000-01-01 00:00:00", "0001-01-01 00:00:00", "1970-01-01 00:00:00", "2024-02-29 12:00:00", ...ZERO_DATES.map((d) => `${d} 10:00:00${fsp > 0 ? ".5" : ""}`), "0000-00-00 00:00:00"].map(q),
    generate: (r) => q(`${day(r, r.chance(0.05) ? 1 : 1000)} ${clock(r, fsp)}`),
  };
}

function timestamp(fsp: number): OracleColumn {
  // written in a +05:30 session: the server keeps UTC, the oracle reads UTC
  return {
    name: `ts${fsp}`, ddl: `TIMESTAMP(${fsp}) NULL DEFAULT NULL`, kind: "timestamp",
    edges: [`2038-01-19 08:44:07${nines(fsp)}`, "1970-01-01 05:30:01", "2000-01-01 05:30:00", "0000-00-00 00:00:00"].map(q),
    generate: (r) => {
      const s = r.int(1, 2 ** 31 - 2);
      const t = new Date(s * 1000 + 5.5 * 3600_000).toISOString();
      return q(`${t.slice(0, 10)} ${t.slice(11, 19)}${fraction(r, fsp)}`);
    },
  };
}

function time(fsp: number): OracleColumn {
  return {
    name: `t${fsp}`, ddl: `TIME(${fsp})`, kind: "time",
    // issue 15, Found 2: negative values with a zero fraction streamed with 64 seconds
    edges: [`838:59:59${nines(fsp)}`, `-838:59:59${nines(fsp)}`, "00:00:00", "-00:00:01", "-00:01:00", "-01:00:00", "-10:00:00", "-01:01:00", "24:00:00", "-24:00:00", ...(fsp > 0 ? [`-00:00:00.${"0".repeat(fsp - 1)}1`, "-00:00:59.5"] : [])].map(q),
    generate: (r) => q(`${r.chance(0.5) ? "-" : ""}${r.chance(0.7) ? p2(r.int(0, 23)) : r.int(24, 838)}:${p2(r.int(0, 59))}:${p2(r.int(0, 59))}${fraction(r, fsp)}`),
  };
}

function bits(n: number): OracleColumn {
  const max = (1n << BigInt(n)) - 1n;
  return {
    name: `bit${n}`, ddl: `BIT(${n})`, kind: n === 1 ? "bit1" : "bits",
    edges: [0n, max, 1n, ...(n > 1 ? [1n << BigInt(n - 1)] : [])].map((v) => `b'${v.toString(2)}'`),
    generate: (r) => `b'${r.big(0n, max).toString(2)}'`,
  };
}

function binary(name: string, ddl: string, max: number, fixed?: number): OracleColumn {
  const size = fixed ?? max;
  const fit = (b: Buffer) => b.subarray(0, size);
  return {
    name, ddl, kind: "bytes",
    edges: [Buffer.alloc(fixed ?? 0), fit(EVERY_BYTE), fit(Buffer.from(EVERY_BYTE).reverse()), fit(Buffer.alloc(size, 0xff)), fit(Buffer.from([1, 0, 0, 0])), ...NOT_UTF8.map(fit), ...(max > 70_000 ? [Buffer.alloc(70_000, 0xab)] : [])].map(hex),
    generate: (r) => hex(fixed !== undefined ? r.bytes(fixed) : r.bytes(r.chance(0.02) ? Math.min(max, r.int(256, 4096)) : r.int(0, Math.min(max, 64)))),
  };
}

function texts(name: string, ddl: string, max: number, nul: boolean): OracleColumn {
  return {
    name, ddl, kind: "text",
    edges: ["", "😀 𝄞 𠜎 🏳️‍🌈", "\u0000", "It's \"quoted\" \\ back", "x".repeat(Math.min(max, 250))].map(utf8),
    generate: (r) => utf8(text(r, Math.min(max, r.chance(0.02) ? 1000 : 40), nul)),
  };
}

// a comma, a 4-byte character (information_schema shows '?'), a real '?' and a backslash: each
// label must arrive, and be created in a MariaDB target, exactly
const ENUM_LABELS = ["small", "medium", "x-large", "it's", "😀", "ünï", "a,b", "?", "back\\slash"];
const SET_LABELS = ["a", "b", "c", "d", "😀"];

function ipv6(r: Random): string {
  const groups = Array.from({ length: 8 }, () => (r.chance(0.4) ? 0 : r.int(0, 0xffff)));
  if (r.chance(0.1)) return `::ffff:${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}`;
  return groups.map((g) => g.toString(16)).join(":");
}

/** Every column of the oracle's MariaDB tables, by table. */
export const MARIADB_TABLES = mariadbTables(true);

/**
 * The oracle's MariaDB tables; with `nul` false, NUL characters only among the edges (a target
 * that refuses them refuses a few rows, not nearly every row of generated text).
 */
export function mariadbTables(nul: boolean): Record<string, OracleColumn[]> {
  return {
  numbers: [
    integer("i8", "TINYINT", -128n, 127n),
    integer("i8_1", "TINYINT(1)", -128n, 127n),
    integer("u8", "TINYINT UNSIGNED", 0n, 255n),
    integer("i16", "SMALLINT", -32768n, 32767n),
    integer("u16", "SMALLINT UNSIGNED", 0n, 65535n),
    integer("i24", "MEDIUMINT", -8388608n, 8388607n),
    integer("u24", "MEDIUMINT UNSIGNED", 0n, 16777215n),
    integer("i32", "INT", -2147483648n, 2147483647n),
    integer("u32", "INT UNSIGNED", 0n, 4294967295n),
    integer("i64", "BIGINT", -(2n ** 63n), 2n ** 63n - 1n),
    integer("u64", "BIGINT UNSIGNED", 0n, 2n ** 64n - 1n),
    decimal(1, 0), decimal(5, 2), decimal(10, 0), decimal(10, 10), decimal(12, 4, true), decimal(18, 9), decimal(19, 4),
    decimal(20, 0), decimal(30, 15), decimal(38, 10), decimal(65, 0), decimal(65, 30),
    {
      name: "flt", ddl: "FLOAT", kind: "float",
      edges: ["3.4028234663852886e38", "-3.4028234663852886e38", "1.1754943508222875e-38", "1.401298464324817e-45", "0", "0.1", "-1"],
      generate: (r) => {
        const b = r.bytes(4);
        const v = b.readFloatLE(0);
        return Number.isFinite(v) ? String(v) : "1.5";
      },
    },
    {
      name: "dbl", ddl: "DOUBLE", kind: "double",
      edges: ["1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "2.2250738585072014e-308", "0", "0.1", "94253.71428571429", "-1"],
      // issue 15, Found 7: n / 7 values, a quarter of which the text protocol's parsing changed
      generate: (r) => {
        if (r.chance(0.5)) return `CAST(${r.int(600_000, 700_000)} AS DOUBLE) / 7`;
        const b = r.bytes(8);
        const v = b.readDoubleLE(0);
        return Number.isFinite(v) ? String(v) : "2.5";
      },
    },
    bits(1), bits(2), bits(7), bits(8), bits(9), bits(17), bits(63), bits(64),
    {
      name: "y", ddl: "YEAR", kind: "year",
      // issue 15, Found 1: YEAR 0000 streamed as 1900
      edges: ["0", "1901", "2155", "2000", "1999"],
      generate: (r) => String(r.int(1901, 2155)),
    },
  ],
  texts: [
    texts("ch", "CHAR(20)", 20, nul),
    texts("vc", "VARCHAR(255)", 255, nul),
    texts("tt", "TINYTEXT", 60, nul),
    texts("tx", "TEXT", 5000, nul),
    texts("mt", "MEDIUMTEXT", 5000, nul),
    texts("lt", "LONGTEXT", 5000, nul),
    binary("bn", "BINARY(16)", 16, 16),
    binary("vb", "VARBINARY(300)", 300),
    binary("tb", "TINYBLOB", 255),
    binary("bl", "BLOB", 65535),
    binary("mb", "MEDIUMBLOB", 100_000),
    binary("lb", "LONGBLOB", 100_000),
    {
      name: "j", ddl: "JSON", kind: "text",
      edges: ["{}", "[]", '"😀"', '{"a": [1, 2.5, -3e10, null, true, "𠜎"], "b": {}}', "null", '"\\u0000"'].map(utf8),
      generate: (r) => utf8(json(r, nul)),
    },
    {
      name: "e", ddl: `ENUM(${quoteMysqlLabels(ENUM_LABELS)})`, kind: "text",
      // '' is the index 0 a bad value becomes outside strict mode
      edges: [...ENUM_LABELS.map(utf8), "'not a label'"],
      generate: (r) => utf8(r.pick(ENUM_LABELS)),
    },
    {
      name: "s", ddl: `SET(${SET_LABELS.map((l) => `'${l}'`).join(",")})`, kind: "set",
      edges: ["''", utf8(SET_LABELS.join(",")), "'a'", utf8("😀")],
      generate: (r) => utf8(SET_LABELS.filter(() => r.chance(0.4)).join(",")),
    },
    {
      name: "u", ddl: "UUID", kind: "string",
      edges: ["'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'123e4567-e89b-12d3-a456-426614174000'", "'00000000-0000-0000-0000-000000000001'"],
      // RFC 4122 versions and variant: the server stores some other bit patterns as NULL
      generate: (r) => {
        const b = r.bytes(16);
        b[6] = (b[6]! & 0x0f) | (r.int(1, 5) << 4);
        b[8] = (b[8]! & 0x3f) | 0x80;
        return q(b.toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-"));
      },
    },
    {
      name: "ip4", ddl: "INET4", kind: "string",
      edges: ["'0.0.0.0'", "'255.255.255.255'", "'10.0.0.0'", "'0.0.0.1'"],
      generate: (r) => q([...r.bytes(4)].join(".")),
    },
    {
      name: "ip6", ddl: "INET6", kind: "string",
      edges: ["'::'", "'::1'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'::ffff:1.2.3.4'", "'::1.2.3.4'", "'1::'", "'0:1:0:0:1:0:0:0'", "'2001:db8::1'"],
      generate: (r) => q(ipv6(r)),
    },
  ],
  times: [
    {
      name: "d", ddl: "DATE", kind: "date",
      edges: ["9999-12-31", "1000-01-01", "0001-01-01", "1970-01-01", "2024-02-29", "1900-02-28", ...ZERO_DATES].map(q),
      generate: (r) => q(day(r, r.chance(0.05) ? 1 : 1000)),
    },
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((fsp) => [datetime(fsp), timestamp(fsp), time(fsp)]),
  ],
  };
}

/** What the server renders a column as, in the SELECT list (FLOAT and DOUBLE: the value itself, read through the binary protocol). */
export function serverExpression(c: OracleColumn): string {
  const col = `\`${c.name}\``;
  switch (c.kind) {
    case "float":
    case "double":
      return col;
    case "bit1":
    case "bits":
      return `CAST(${col} + 0 AS CHAR)`;
    case "text":
    case "set":
    case "bytes":
      return `HEX(${col})`;
    default:
      return `CAST(${col} AS CHAR)`;
  }
}

const upperHex = (b: Buffer) => b.toString("hex").toUpperCase();

/**
 * The server's rendering of a delivered raw value, or why it has none. The server's own text goes
 * through `normalize` first (temporal fractions to 6 digits).
 */
export function renderDelivered(c: OracleColumn, raw: Raw): unknown {
  if (raw === null) return null;
  const v = raw.value;
  switch (c.kind) {
    case "int":
      return Buffer.isBuffer(v) ? unscaled(v).toString() : String(v);
    case "decimal":
      return decimalText(unscaled(v as Buffer), c.scale ?? 0);
    case "float":
    case "double":
      return v;
    case "bit1":
      return v === true ? "1" : v === false ? "0" : `not a boolean: ${String(v)}`;
    case "bits":
      return (v as Buffer).length === 0 ? "0" : BigInt(`0x${(v as Buffer).toString("hex")}`).toString();
    case "text":
      return upperHex(Buffer.from(v as string, "utf8"));
    case "set":
      return upperHex(Buffer.from((v as string[]).join(","), "utf8"));
    case "bytes":
      return upperHex(v as Buffer);
    case "year":
      return String(v).padStart(4, "0");
    case "date":
      return dateText(v as number);
    case "datetime":
      return dateTimeText(v as bigint);
    case "timestamp":
      return dateTimeText(v as bigint);
    case "time":
      return durationText(v as bigint);
    case "string":
      return v;
  }
}

/** The server's value as the oracle compares it: temporal fractions to 6 digits, zero dates as the null they are read as. */
export function normalizeServer(c: OracleColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") return value;
  if (c.kind === "date" || c.kind === "datetime" || c.kind === "timestamp") {
    const [y, m, d] = value.slice(0, 10).split("-");
    if (y === "0000" || m === "00" || d === "00") return null;
    return c.kind === "date" ? value : sixDigits(value);
  }
  if (c.kind === "time") return sixDigits(value);
  return value;
}
