/**
 * The PostgreSQL side of the oracle: one column per type and variant of the README's mapping table
 * (every fractional precision, numeric at many precisions and scales, the infinities, dates before
 * year 1 and after 9999, 24:00:00, every byte value, 4-byte UTF-8, arrays), each with its edges and
 * a seeded generator of SQL literals; the expression the server renders it with (`::text`, the
 * IEEE bits of floats by float4send/float8send, bytea in hex); and how a delivered raw Avro value
 * (avro.ts) is rendered the same way, without Liberator's own conversions.
 */
import { civilFromDays, decimalText, sixDigits, unscaled, type Raw } from "./avro.js";
import type { Random } from "./random.js";
import { calendarDay, clock, decimals, EVERY_BYTE, fraction, integers, json, nines, NOT_UTF8, p2, p4, text } from "./values.js";

export type PgKind = "int" | "decimal" | "float4" | "float8" | "bool" | "string" | "bytes" | "bit1" | "calendar" | "time" | "array";

export interface PgColumn {
  name: string;
  /** The column's type in CREATE TABLE (every column is NULL-able). */
  ddl: string;
  kind: PgKind;
  scale?: number;
  /** The element's column, for an array. */
  items?: PgColumn;
  /** The type's output function, where a cast to text is not its output (inet's adds the mask, char(n)'s drops the padding). */
  output?: string;
  /** SQL literals written before any generated value. */
  edges: string[];
  generate(r: Random): string;
}

/** A string literal (standard_conforming_strings: only quotes are doubled). */
export const pgQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const byteaLiteral = (b: Buffer) => `'\\x${b.toString("hex")}'`;

const column = (name: string, ddl: string, kind: PgKind, edges: string[], generate: (r: Random) => string, extra: Partial<PgColumn> = {}): PgColumn => ({ name, ddl, kind, edges, generate, ...extra });

function decimal(p: number, s: number): PgColumn {
  return { name: `num_${p}_${s}`, ddl: `numeric(${p},${s})`, kind: "decimal", scale: s, ...decimals(p, s) };
}

/** A float's bits as a literal the server parses back to the same bits: its shortest exact decimal. */
function floats(bits: 32 | 64): { edges: string[]; generate(r: Random): string } {
  const specials = ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'0'", "'1'", "'-1'", "'0.1'"];
  const edges =
    bits === 32
      ? ["'3.4028235e38'", "'-3.4028235e38'", "'1.17549435e-38'", "'1e-45'", "'16777217'"]
      : ["'1.7976931348623157e308'", "'-1.7976931348623157e308'", "'5e-324'", "'2.2250738585072014e-308'", "'9007199254740993'", "'94253.71428571429'"];
  return {
    edges: [...specials, ...edges],
    generate: (r) => {
      if (bits === 64 && r.chance(0.3)) return `${r.int(600_000, 700_000)}::float8 / 7`;
      const b = r.bytes(bits / 8);
      const v = bits === 32 ? b.readFloatLE(0) : b.readDoubleLE(0);
      return Number.isFinite(v) ? `'${String(v)}'` : "'2.5'";
    },
  };
}

function texts(name: string, ddl: string, max: number): PgColumn {
  return column(name, ddl, "string", ["", "😀 𝄞 𠜎 🏳️‍🌈", "It's \"quoted\" \\ back", "x".repeat(max), " "].map((s) => pgQuote([...s].slice(0, max).join(""))), (r) =>
    pgQuote(text(r, Math.min(max, r.chance(0.02) ? 1000 : 40), false)),
  );
}

/** A year for a PostgreSQL calendar: most in 1-9999, a share `far` before year 1 (BC, half of them) or after 9999. */
function pgYear(r: Random, max: number, far: number): { year: string; bc: string } {
  const x = r.next();
  // 4712 BC at the latest: an offset of +14:00 must not take a timestamp before 4713 BC
  if (x < far / 2) return { year: String(r.int(1, 4712)), bc: " BC" };
  if (x < far) return { year: String(r.int(10_000, max)), bc: "" };
  return { year: p4(r.int(1, 9999)), bc: "" };
}

function pgDay(r: Random, maxYear: number, far: number): { text: string; bc: string } {
  const { year, bc } = pgYear(r, maxYear, far);
  // the month and day of a leap-free year keep every BC and far date valid
  const { m, d } = calendarDay(r, 2001, 2001);
  return { text: `${year.padStart(4, "0")}-${p2(m)}-${p2(d)}`, bc };
}

function timestamp(fsp: number, zoned: boolean, far: number): PgColumn {
  const zone = zoned ? "+00" : "";
  const last = `294276-12-31 23:59:59${nines(fsp)}`;
  return column(
    `ts${zoned ? "tz" : ""}${fsp}`,
    `timestamp(${fsp}) with${zoned ? "" : "out"} time zone`,
    "calendar",
    ["infinity", "-infinity", `4713-01-01 00:00:00${zone} BC`, `0001-12-31 23:59:59${nines(fsp)}${zone} BC`, `0001-01-01 00:00:00${zone}`, `9999-12-31 23:59:59${nines(fsp)}${zone}`, `10000-01-01 00:00:00${zone}`, `${last}${zone}`, `1970-01-01 00:00:00${zone}`, `2024-02-29 12:00:00.5${zone}`].map(pgQuote),
    (r) => {
      const { text: d, bc } = pgDay(r, 294_275, far);
      const offset = zoned ? (r.chance(0.5) ? "+00" : `${r.chance(0.5) ? "+" : "-"}${p2(r.int(0, 14))}:${p2(r.pick([0, 30, 45]))}`) : "";
      return pgQuote(`${d} ${clock(r, fsp)}${offset}${bc}`);
    },
  );
}

function time(fsp: number): PgColumn {
  return column(`t${fsp}`, `time(${fsp})`, "time", ["00:00:00", `23:59:59${nines(fsp)}`, "24:00:00", "12:00:00.5", "00:00:00.000001"].map(pgQuote), (r) => pgQuote(r.chance(0.01) ? "24:00:00" : clock(r, fsp)));
}

function timetz(fsp: number): PgColumn {
  return column(`ttz${fsp}`, `time(${fsp}) with time zone`, "string", ["00:00:00+15:59", "24:00:00-15:59", `23:59:59${nines(fsp)}+00`, "12:00:00.5+05:30", "00:00:00-00:00:01"].map(pgQuote), (r) =>
    pgQuote(`${clock(r, fsp)}${r.chance(0.5) ? "+" : "-"}${p2(r.int(0, 15))}:${p2(r.int(0, 59))}${r.chance(0.1) ? `:${p2(r.int(1, 59))}` : ""}`),
  );
}

function interval(fsp?: number): PgColumn {
  const f = fsp ?? 6;
  const signed = (r: Random, n: number) => `${r.chance(0.3) ? "-" : ""}${r.int(0, n)}`;
  return column(
    `iv${fsp ?? ""}`,
    fsp === undefined ? "interval" : `interval(${fsp})`,
    "string",
    // the largest times only at full precision: rounded to fewer digits they would overflow
    ["0", "178000000 years", "-178000000 years", "1 mon -1 day", "2147483647 days", "-2147483648 days", "1 year 2 mons 3 days 04:05:06.5", ...(fsp === undefined ? ["-00:00:00.000001", "2562047788:00:54.775807", "-2562047788:00:54.775807"] : [])].map(pgQuote),
    (r) => pgQuote(`${signed(r, 5000)} years ${signed(r, 11)} mons ${signed(r, 40)} days ${r.chance(0.5) ? "-" : ""}${r.int(0, 2000)}:${p2(r.int(0, 59))}:${p2(r.int(0, 59))}${fraction(r, f)}`),
  );
}

function bits(name: string, ddl: string, n: number | undefined): PgColumn {
  const max = n ?? 200;
  const fixed = ddl.startsWith("bit(");
  const bitString = (r: Random) => Array.from({ length: fixed ? max : r.int(0, max) }, () => (r.chance(0.5) ? "1" : "0")).join("");
  return column(name, ddl, n === 1 ? "bit1" : "string", [...(fixed ? [] : ["B''"]), `B'${"1".repeat(max)}'`, `B'${"0".repeat(max)}'`, `B'${"1".padEnd(max, "0")}'`], (r) => `B'${bitString(r)}'`);
}

const MOOD = ["sad", "ok", "happy", "it's", "😀", "ünï", "two words"];

function ipv4(r: Random): number[] {
  return [...r.bytes(4)];
}
function ipv6(r: Random): string {
  return Array.from({ length: 8 }, () => (r.chance(0.4) ? 0 : r.int(0, 0xffff)).toString(16)).join(":");
}
/** A network address: the host bits of `bits` cleared (cidr refuses others). */
function network(r: Random): string {
  if (r.chance(0.5)) {
    const prefix = r.int(0, 32);
    const n = (ipv4(r).reduce((a, b) => a * 256 + b, 0) >>> 0) & (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
    return `${[24, 16, 8, 0].map((s) => ((n >>> 0) >>> s) & 255).join(".")}/${prefix}`;
  }
  const prefix = r.int(0, 128);
  const groups = ipv6(r).split(":").map((g) => parseInt(g, 16));
  const masked = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(":")}/${prefix}`;
}
const mac = (r: Random, n: number) => [...r.bytes(n)].map((b) => b.toString(16).padStart(2, "0")).join(r.pick([":", "-"]));

function xml(r: Random): string {
  const body = text(r, 20, false).replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<doc n="${r.int(0, 1e6)}">${body}<e/></doc>`;
}

function uuid(r: Random): string {
  return r.bytes(16).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
}

/** An array column of `items`' values, NULL elements among them. */
function array(items: PgColumn): PgColumn {
  const element = (r: Random) => (r.chance(0.1) ? "NULL" : items.generate(r));
  return column(`${items.name}_arr`, `${items.ddl}[]`, "array", ["'{}'", `ARRAY[${items.edges.join(", ")}]::${items.ddl}[]`, `ARRAY[NULL, ${items.edges[0]}]::${items.ddl}[]`], (r) => `ARRAY[${Array.from({ length: r.int(0, 5) }, () => element(r)).join(", ")}]::${items.ddl}[]`, { items });
}

const integer = (name: string, ddl: string, min: bigint, max: bigint): PgColumn => ({ name, ddl, kind: "int", ...integers(min, max) });
const int4 = integer("i32", "integer", -2147483648n, 2147483647n);
const text40 = texts("tx", "text", 5000);
const num12 = decimal(12, 3);

/** Types the tables need created first, in the oracle's database. */
export const PG_PREAMBLE = [`CREATE TYPE mood AS ENUM (${MOOD.map(pgQuote).join(", ")})`, "CREATE EXTENSION IF NOT EXISTS citext"];

/**
 * Every column of the oracle's PostgreSQL tables, by table; `far` is the share of generated dates
 * and timestamps before year 1 or after 9999 (a MariaDB target refuses them: fewer keep more rows
 * comparable there).
 */
export const pgTables = (far = 0.1): Record<string, PgColumn[]> => ({
  numbers: [
    integer("i16", "smallint", -32768n, 32767n),
    int4,
    integer("i64", "bigint", -(2n ** 63n), 2n ** 63n - 1n),
    integer("oid", "oid", 0n, 4294967295n),
    decimal(1, 0), decimal(5, 2), decimal(10, 10), num12, decimal(18, 9), decimal(38, 10), decimal(65, 30), decimal(100, 50), decimal(300, 0),
    column("num", "numeric", "string", ["'NaN'", "'Infinity'", "'-Infinity'", "'0'", "'0.000'", "'-0.5'", `'${"9".repeat(131072)}'`, `'0.${"0".repeat(16382)}1'`, "'1e-100'", "'123.4500'"], (r) => {
      const digits = r.chance(0.1) ? 200 : 30;
      return `'${r.chance(0.5) ? "-" : ""}${r.digits(r.int(1, digits)).replace(/^0+(?=\d)/, "")}${r.chance(0.7) ? `.${r.digits(r.int(1, digits))}` : ""}'`;
    }),
    { name: "f4", ddl: "real", kind: "float4", ...floats(32) },
    { name: "f8", ddl: "double precision", kind: "float8", ...floats(64) },
    column("b", "boolean", "bool", ["true", "false"], (r) => (r.chance(0.5) ? "true" : "false")),
  ],
  texts: [
    texts("vc20", "varchar(20)", 20),
    texts("vc", "varchar", 5000),
    { ...texts("ch10", "char(10)", 10), output: "bpcharout" },
    { ...texts("ch", "bpchar", 5000), output: "bpcharout" },
    text40,
    texts("ci", "citext", 5000),
    // a name holds 63 bytes: 15 characters of up to 4
    texts("nm", "name", 15),
    column("x", "xml", "string", ["'<a/>'", pgQuote("<a b=\"😀\">𠜎 &amp; é</a>"), "'text only'"], (r) => pgQuote(xml(r))),
    column("bin", "bytea", "bytes", [Buffer.alloc(0), EVERY_BYTE, Buffer.from(EVERY_BYTE).reverse(), Buffer.alloc(256, 0xff), Buffer.from([1, 0, 0, 0]), ...NOT_UTF8, Buffer.alloc(70_000, 0xab)].map(byteaLiteral), (r) =>
      byteaLiteral(r.bytes(r.chance(0.02) ? r.int(256, 4096) : r.int(0, 64))),
    ),
    column("js", "json", "string", ["{}", "[]", '"😀"', '{"a": [1, 2.5, -3e10, null, true, "𠜎"], "b": {}, "a": 2}', "null", '"\\u0000"', '  {"spaced" :  1 }  ', "1e400"].map(pgQuote), (r) => pgQuote(json(r))),
    column("jb", "jsonb", "string", ["{}", "[]", '"😀"', '{"a": [1, 2.5, -3e10, null, true, "𠜎"], "b": {}, "a": 2}', "null", '  {"spaced" :  1 }  ', "1e400", "0.10"].map(pgQuote), (r) => pgQuote(json(r, false))),
    column("mood", "mood", "string", [...MOOD.map(pgQuote)], (r) => pgQuote(r.pick(MOOD))),
  ],
  times: [
    column("d", "date", "calendar", ["infinity", "-infinity", "4713-01-01 BC", "0001-12-31 BC", "0001-01-01", "9999-12-31", "10000-01-01", "5874897-12-31", "1970-01-01", "2024-02-29", "1900-02-28"].map(pgQuote), (r) => {
      const { text: d, bc } = pgDay(r, 5_874_896, far);
      return pgQuote(`${d}${bc}`);
    }),
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((fsp) => [timestamp(fsp, false, far), timestamp(fsp, true, far), time(fsp)]),
    timetz(0), timetz(6),
    interval(), interval(0), interval(3),
  ],
  others: [
    column("u", "uuid", "string", ["'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'{123E4567-E89B-12D3-A456-426614174000}'"], (r) => pgQuote(uuid(r))),
    column("ip", "inet", "string", ["'0.0.0.0'", "'255.255.255.255/32'", "'10.1.2.3/8'", "'::'", "'::ffff:1.2.3.4'", "'2001:db8::1/64'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'"], (r) =>
      pgQuote(r.chance(0.5) ? `${ipv4(r).join(".")}${r.chance(0.5) ? `/${r.int(0, 32)}` : ""}` : `${ipv6(r)}${r.chance(0.5) ? `/${r.int(0, 128)}` : ""}`),
    { output: "inet_out" }),
    column("net", "cidr", "string", ["'0.0.0.0/0'", "'10.0.0.0/8'", "'255.255.255.255/32'", "'::/0'", "'2001:db8::/32'"], (r) => pgQuote(network(r)), { output: "cidr_out" }),
    column("mac", "macaddr", "string", ["'00:00:00:00:00:00'", "'ff:ff:ff:ff:ff:ff'", "'08002b:010203'"], (r) => pgQuote(mac(r, 6))),
    column("mac8", "macaddr8", "string", ["'00:00:00:00:00:00:00:00'", "'ff:ff:ff:ff:ff:ff:ff:ff'", "'08:00:2b:01:02:03'"], (r) => pgQuote(mac(r, 8))),
    bits("bit1", "bit(1)", 1),
    bits("bit13", "bit(13)", 13),
    bits("vbit20", "bit varying(20)", 20),
    bits("vbit", "bit varying", undefined),
    array(int4),
    array(text40),
    array(num12),
    array(column("d", "date", "calendar", ["'infinity'", "'2024-02-29'", "'0044-03-15 BC'"], (r) => pgQuote(`${pgDay(r, 9999, far).text}`))),
    array(column("bin", "bytea", "bytes", [byteaLiteral(EVERY_BYTE)], (r) => byteaLiteral(r.bytes(r.int(0, 8))))),
  ],
});

export const PG_TABLES = pgTables();

/** What the server renders a column as, in the SELECT list (floats: the hex of their IEEE bits; char(n): with its padding). */
export function pgServerExpression(c: PgColumn): string {
  const col = `"${c.name}"`;
  switch (c.kind) {
    case "float4":
      return `encode(float4send(${col}), 'hex')`;
    case "float8":
      return `encode(float8send(${col}), 'hex')`;
    case "bytes":
      return `encode(${col}, 'hex')`;
    default:
      return c.output ? `${c.output}(${col})::text` : `${col}::text`;
  }
}

/** The server's rendering as compared: temporal values as "<astronomical year> MM-DD[ HH:MM:SS.ffffff]". */
export function pgNormalizeServer(c: PgColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (c.kind === "calendar") return pgCalendar(text);
  if (c.kind === "time") return sixDigits(text);
  return text;
}

/** PostgreSQL's text of a date or timestamp, as the comparison spells both sides. */
function pgCalendar(text: string): string {
  if (text === "infinity" || text === "-infinity") return text;
  const m = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d:\d\d:\d\d(?:\.\d+)?))?(?:\+00)?( BC)?$/.exec(text);
  if (!m) return `unexpected server text ${text}`;
  const year = m[5] ? 1 - Number(m[1]) : Number(m[1]);
  return `${year} ${m[2]}-${m[3]}${m[4] ? ` ${sixDigits(m[4])}` : ""}`;
}

const DAY = 86_400_000_000n;
function calendarOf(days: number, micros?: bigint): string {
  const { y, m, d } = civilFromDays(days);
  return `${y} ${p2(m)}-${p2(d)}${micros === undefined ? "" : ` ${clockOf(micros)}`}`;
}
const clockOf = (micros: bigint) => {
  const s = micros / 1_000_000n;
  return `${String(s / 3600n).padStart(2, "0")}:${String((s / 60n) % 60n).padStart(2, "0")}:${String(s % 60n).padStart(2, "0")}.${String(micros % 1_000_000n).padStart(6, "0")}`;
};

/** A delivered date or timestamp: an Avro date or micros (years 1-9999), or the text branch's ISO 8601 ("-004712-01-01", "+010000-…"). */
function deliveredCalendar(raw: Exclude<Raw, null>): string {
  const v = raw.value;
  if (typeof v === "number") return calendarOf(v);
  if (typeof v === "bigint") {
    let days = v / DAY;
    let rest = v % DAY;
    if (rest < 0n) {
      rest += DAY;
      days -= 1n;
    }
    return calendarOf(Number(days), rest);
  }
  const text = String(v);
  if (text === "infinity" || text === "-infinity") return text;
  const m = /^([+-]?)(\d{4,})-(\d\d)-(\d\d)(?:T(\d\d:\d\d:\d\d\.\d{6}))?Z?$/.exec(text);
  if (!m) return `unexpected delivered text ${text}`;
  return `${Number(m[2]) * (m[1] === "-" ? -1 : 1)} ${m[3]}-${m[4]}${m[5] ? ` ${m[5]}` : ""}`;
}

/** A delivered raw value rendered as the server renders (and pgNormalizeServer normalizes) it. */
export function pgRenderDelivered(c: PgColumn, raw: Raw): unknown {
  if (raw === null) return null;
  const v = raw.value;
  switch (c.kind) {
    case "int":
      return String(v);
    case "decimal":
      return decimalText(unscaled(v as Buffer), c.scale ?? 0);
    case "float4":
    case "float8":
      return floatBits(v as number, c.kind === "float4" ? 4 : 8);
    case "bool":
      return v === true ? "true" : v === false ? "false" : `not a boolean: ${String(v)}`;
    case "bit1":
      return v === true ? "1" : v === false ? "0" : `not a boolean: ${String(v)}`;
    case "bytes":
      return (v as Buffer).toString("hex");
    case "calendar":
      return deliveredCalendar(raw);
    case "time":
      return typeof v === "bigint" ? clockOf(v) : String(v);
    case "array":
      return `{${(v as Raw[]).map((item) => arrayElement(c.items!, item === null ? null : unwrapped(item))).join(",")}}`;
    default:
      return v;
  }
}

/** An array item as avsc gives it with wrapped unions: `{ branch: value }`. */
function unwrapped(item: unknown): Raw {
  const [branch, value] = Object.entries(item as Record<string, unknown>)[0]!;
  return { branch, value };
}

/** An element as PostgreSQL's array output writes it: NULL, or quoted when it must be. */
function arrayElement(items: PgColumn, raw: Raw): string {
  if (raw === null) return "NULL";
  let s = String(pgRenderDelivered(items, raw));
  if (items.kind === "bytes") s = `\\x${s}`;
  else if (items.kind === "calendar") s = pgCalendarText(s);
  // array_isspace: ASCII white space only (a BOM or U+00A0 goes unquoted)
  return s === "" || /^null$/i.test(s) || /[{}",\\ \t\n\r\v\f]/.test(s) ? `"${s.replace(/[\\"]/g, "\\$&")}"` : s;
}

/** The comparison's calendar spelling back to PostgreSQL's date text, for array elements. */
function pgCalendarText(s: string): string {
  const m = /^(-?\d+) (\d\d-\d\d)$/.exec(s);
  if (!m) return s;
  const year = Number(m[1]);
  return year >= 1 ? `${p4(year)}-${m[2]}` : `${p4(1 - year)}-${m[2]} BC`;
}

/** A float's IEEE bits in hex, as float4send/float8send give them (NaN as PostgreSQL writes it). */
export function floatBits(v: number, size: 4 | 8): string {
  if (Number.isNaN(v)) return size === 4 ? "7fc00000" : "7ff8000000000000";
  const b = Buffer.alloc(size);
  if (size === 4) b.writeFloatBE(v);
  else b.writeDoubleBE(v);
  return b.toString("hex");
}
