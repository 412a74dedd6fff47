/**
 * The canonical JS value of every Avro type Liberator writes: what sources build, what the
 * serializer encodes, what the deserializer hands to sinks. Each form is exact (no float ever
 * stands in for a decimal, a long or a microsecond) and unique (one value, one spelling), so
 * "read, encode, decode" gives back an equal value (`===`, or equal bytes/arrays):
 *
 * | Avro                    | JS value                                                          | example                          |
 * |-------------------------|-------------------------------------------------------------------|----------------------------------|
 * | boolean                 | boolean                                                           | true                             |
 * | int                     | number (integer)                                                  | -8388608                         |
 * | long                    | bigint (safe-integer numbers are accepted when encoding)          | 9223372036854775807n             |
 * | float                   | number holding a float32 value (`Math.fround`); NaN, ±Infinity     | 3.4028234663852886e38            |
 * | double                  | number; NaN, ±Infinity                                            | 5e-324                           |
 * | string                  | string (any Unicode, 4-byte characters included)                  | "😀"                             |
 * | bytes                   | Buffer                                                            | <Buffer 00 ff>                   |
 * | bytes, decimal(p,s)     | string, plain notation, exactly s fraction digits, no "-0"        | "-12.340", "18446744073709551615"|
 * | int, date               | "YYYY-MM-DD", years 0001–9999                                     | "9999-12-31"                     |
 * | long, time-micros       | "HH:MM:SS.ffffff", a time of day (00:00:00 up to 24 h, excluded)  | "23:59:59.999999"                |
 * | long, MicroTime         | "[-]HH:MM:SS.ffffff", a duration; hours may pass 23 (MySQL TIME)  | "-838:59:59.000000"              |
 * | long, timestamp-micros  | "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC), years 0001–9999              | "2038-01-19T03:14:07.999999Z"    |
 * | long, local-timestamp-micros | "YYYY-MM-DDTHH:MM:SS.ffffff" (no zone), years 0001–9999      | "1000-01-01T00:00:00.000000"     |
 * | string, time Text       | what the types above cannot hold: "infinity", "-infinity", the    | "-004712-01-01", "24:00:00.000000" |
 * |                         | forms above outside years 0001–9999, "24:00:00.000000"            |                                  |
 * | string, uuid            | lowercase 8-4-4-4-12                                              | "123e4567-e89b-12d3-a456-426614174000" |
 * | array                   | array of the item form                                            | ["a", "c"]                       |
 * | union with null         | null or the branch's form (never wrapped)                         | null                             |
 *
 * Years outside 0000–9999 use ISO 8601's expanded form with a sign and six digits ("-004712-01-01"),
 * astronomical numbering (year 0 is 1 BC), as `Date.prototype.toISOString` does. The date and
 * timestamp logical types hold years 0001–9999 only, and time-micros a time of day only: that is
 * what every common decoder turns into its date and time types without an error (Python's
 * datetime stops at year 1 and 9999, Java's LocalTime at 24 h). The rest travels as text
 * (sql-types/mapping.ts says where).
 *
 * Below: the exact converters these forms need. The driver options that read every type without
 * loss are in runtime/db; the drivers' own text forms (inet, bytea, arrays) in sql-types/driver-values.ts.
 */
import { DataError, ErrorCode } from "../errors.js";

/** Microseconds (or days) as a number while it is a safe integer, as a bigint beyond. */
export type Exact = number | bigint;

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

/** A converter got a value it cannot turn into the promised form; the caller adds the column or field. */
export function invalidValue(what: string, value: unknown, why?: string): DataError {
  return new DataError(ErrorCode.SCHEMA_VALUE_INVALID, `${preview(value)} is not a valid ${what}${why ? ` (${why})` : ""}`);
}

export function preview(value: unknown): string {
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  try {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 64 ? `${s.slice(0, 61)}...` : s;
  } catch {
    return String(value);
  }
}

export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

// ---------------------------------------------------------------------------------------------
// Integers

export function toInt(value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) return n;
  if (typeof value === "bigint" && value >= INT32_MIN && value <= INT32_MAX) return Number(value);
  throw invalidValue("int", value);
}

export function toLong(value: unknown): bigint {
  let v: bigint | undefined;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  else if (typeof value === "string" && /^[+-]?\d+$/.test(value)) v = BigInt(value);
  if (v === undefined || !inInt64(v)) throw invalidValue("long", value);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Decimals: text ⇄ unscaled integer. Scale is fixed by the schema, so "1.5" at scale 2 is "1.50".

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * The unscaled integer of a decimal written in plain notation, at `scale`. Digits past `scale`
 * are accepted only when they are zeros: anything else would be rounding.
 */
export function unscaledDecimal(text: string, scale: number): bigint {
  const m = DECIMAL_TEXT.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw invalidValue(`decimal with scale ${scale}`, text);
  let fraction = m[3] ?? "";
  if (fraction.length > scale) {
    if (!/^0*$/.test(fraction.slice(scale))) throw invalidValue(`decimal with scale ${scale}`, text, "it has more fraction digits");
    fraction = fraction.slice(0, scale);
  }
  const digits = `${m[2] || "0"}${fraction.padEnd(scale, "0")}`;
  const v = BigInt(digits);
  return m[1] === "-" ? -v : v;
}

export function formatDecimal(unscaled: bigint | number, scale: number): string {
  const negative = unscaled < 0;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

export function digitCount(unscaled: bigint): number {
  return (unscaled < 0n ? -unscaled : unscaled).toString().length;
}

/**
 * True when `text` is already the canonical form of decimal(p,s), as drivers print DECIMAL(p,s):
 * no sign but "-", no leading zero, exactly `scale` fraction digits, at most `precision` digits,
 * never "-0". Checked char by char, so the common value needs no bigint and no new string.
 */
function isCanonicalDecimal(text: string, precision: number, scale: number): boolean {
  const length = text.length;
  const i = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const point = scale > 0 ? length - scale - 1 : length;
  if (point <= i || (scale > 0 && text.charCodeAt(point) !== 46) /* . */) return false;
  let significant = 0;
  for (let j = i; j < length; j++) {
    if (j === point) continue;
    const c = text.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return false;
    if (significant > 0 || c !== 0) significant++;
  }
  // a leading zero only as the whole integer part ("0.50"); zero has no sign
  if (text.charCodeAt(i) === 48 && point - i > 1) return false;
  if (significant === 0) return i === 0;
  return significant <= precision;
}

/** Any exact decimal input (text, bigint, safe integer) in the canonical form of decimal(p,s). */
export function toDecimal(value: unknown, precision: number, scale: number): string {
  let unscaled: bigint;
  if (typeof value === "string" && isCanonicalDecimal(value, precision, scale)) return value;
  if (typeof value === "string") unscaled = unscaledDecimal(value, scale);
  else if (typeof value === "bigint") unscaled = value * 10n ** BigInt(scale);
  else if (typeof value === "number" && Number.isSafeInteger(value)) unscaled = BigInt(value) * 10n ** BigInt(scale);
  else throw invalidValue(`decimal(${precision},${scale})`, value);
  if (digitCount(unscaled) > precision) throw invalidValue(`decimal(${precision},${scale})`, value, `more than ${precision} digits`);
  return formatDecimal(unscaled, scale);
}

/** Two's-complement big-endian bytes, the shortest that hold `v` (Avro's decimal encoding). */
export function twosComplement(v: bigint): Buffer {
  let bytes = 1;
  while (v >= 1n << BigInt(8 * bytes - 1) || v < -(1n << BigInt(8 * bytes - 1))) bytes++;
  let u = v < 0n ? (1n << BigInt(8 * bytes)) + v : v;
  const out = Buffer.allocUnsafe(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

export function fromTwosComplement(buf: Uint8Array, start = 0, end = buf.length): bigint {
  if (end <= start) return 0n;
  let v = 0n;
  for (let i = start; i < end; i++) v = (v << 8n) | BigInt(buf[i]!);
  return buf[start]! & 0x80 ? v - (1n << BigInt(8 * (end - start))) : v;
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, astronomical years), exact for any year.

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export const MICROS_PER_DAY = 86_400_000_000;
/** |days| below this keeps days × MICROS_PER_DAY under 2^53, so number arithmetic stays exact. */
const SAFE_DAYS = 104_000_000;

function combine(days: number, timeOfDay: number): Exact {
  if (Math.abs(days) < SAFE_DAYS) {
    const n = days * MICROS_PER_DAY + timeOfDay;
    if (Number.isSafeInteger(n)) return n;
  }
  return BigInt(days) * BigInt(MICROS_PER_DAY) + BigInt(timeOfDay);
}

function split(micros: Exact): [days: number, timeOfDay: number] {
  if (typeof micros === "number") {
    const days = Math.floor(micros / MICROS_PER_DAY);
    return [days, micros - days * MICROS_PER_DAY];
  }
  const perDay = BigInt(MICROS_PER_DAY);
  let days = micros / perDay;
  let rest = micros % perDay;
  if (rest < 0n) {
    days -= 1n;
    rest += perDay;
  }
  return [Number(days), Number(rest)];
}

// ---------------------------------------------------------------------------------------------
// Dates, times and timestamps: text ⇄ days / microseconds.

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const pad2 = (n: number) => TWO_DIGITS[n] ?? `${n}`;

function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return `${year}`.padStart(4, "0");
  return `${year < 0 ? "-" : "+"}${`${Math.abs(year)}`.padStart(6, "0")}`;
}

function formatFraction(micros: number): string {
  return `${micros}`.padStart(6, "0");
}

/** The last date formatted: the timestamps of a batch mostly fall on a few days. */
let lastDays = Number.NaN;
let lastDate = "";

export function formatDate(days: number): string {
  if (days !== lastDays) {
    const [y, m, d] = civilFromDays(days);
    lastDate = `${formatYear(y)}-${pad2(m)}-${pad2(d)}`;
    lastDays = days;
  }
  return lastDate;
}

const digitCode = (n: number) => 48 + n;

/**
 * "THH:MM:SS.ffffff" as one flat string. A sink decodes one per timestamp of every record and holds
 * it until the batch is written: pieces joined by a template made a tree of a dozen strings, which
 * outlived the young generation's collections and was copied there.
 */
function formatClock(tod: number): string {
  const s = Math.floor(tod / 1_000_000);
  const f = tod - s * 1_000_000;
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const sec = s % 60;
  return String.fromCharCode(
    84,
    digitCode(Math.floor(h / 10)),
    digitCode(h % 10),
    58,
    digitCode(Math.floor(m / 10)),
    digitCode(m % 10),
    58,
    digitCode(Math.floor(sec / 10)),
    digitCode(sec % 10),
    46,
    digitCode(Math.floor(f / 100_000)),
    digitCode(Math.floor(f / 10_000) % 10),
    digitCode(Math.floor(f / 1_000) % 10),
    digitCode(Math.floor(f / 100) % 10),
    digitCode(Math.floor(f / 10) % 10),
    digitCode(f % 10),
  );
}

function formatDateTime(micros: Exact, zone: string): string {
  const [days, tod] = split(micros);
  return formatDate(days) + formatClock(tod) + zone;
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

interface DateParts {
  year: number;
  month: number;
  day: number;
  /** Index just after the date. */
  end: number;
}

/**
 * "YYYY-MM-DD" with an optional ISO expanded year ("+010000", "-004712"). The common 4-digit case
 * is read char by char: this runs once per temporal value on the hot path.
 */
function readDate(s: string): DateParts | undefined {
  let year: number;
  let i: number;
  if (s.length >= 10 && s.charCodeAt(4) === 45 /* - */ && s.charCodeAt(7) === 45) {
    year = digit(s, 0) * 1000 + digit(s, 1) * 100 + two(s, 2);
    i = 5;
  } else {
    const m = /^([+-]?)(\d{4,})-/.exec(s);
    if (!m) return undefined;
    year = Number(m[2]) * (m[1] === "-" ? -1 : 1);
    i = m[0].length;
  }
  if (s.charCodeAt(i + 2) !== 45) return undefined;
  const month = two(s, i);
  const day = two(s, i + 3);
  if (!(year === year && month >= 0 && month <= 12 && day >= 0 && day <= 31)) return undefined;
  return { year, month, day, end: i + 5 };
}

/** A date part of 0000-00-00 style: MySQL's zero date, or a zero month or day (NO_ZERO_IN_DATE off). */
function isZeroDate(p: DateParts): boolean {
  return p.month === 0 || p.day === 0;
}

function checkCivil(p: DateParts, what: string, text: string): number {
  if (isZeroDate(p) || p.day > daysInMonth(p.year, p.month)) throw invalidValue(what, text);
  return daysFromCivil(p.year, p.month, p.day);
}

/** PostgreSQL writes BC years as "0044-03-15 12:00:00+00 BC"; astronomical year = 1 - that. */
function fromBc(text: string): string {
  // every temporal value passes here: the regex runs only on what can be a BC year
  if (!text.endsWith(" BC")) return text;
  const m = /^(\d{4,})(-\d{2}-\d{2}.*) BC$/.exec(text);
  if (!m) return text;
  const year = 1 - Number(m[1]);
  return `${year === 0 ? "0000" : `-${`${-year}`.padStart(6, "0")}`}${m[2]}`;
}

/** Days since 1970-01-01 of any calendar date, BC and expanded years included. */
export function daysOfDate(text: string): number {
  const s = fromBc(text);
  const p = readDate(s);
  if (!p || p.end !== s.length) throw invalidValue("date", text);
  return checkCivil(p, "date", text);
}

/** PostgreSQL's infinities: no calendar value, kept as their text. */
const isInfinity = (text: string) => text === "infinity" || text === "-infinity";

/** 0001-01-01 and 9999-12-31: the dates every common decoder holds (Python's date stops there). */
const FIRST_DAY = daysFromCivil(1, 1, 1);
const LAST_DAY = daysFromCivil(9999, 12, 31);

export function isPortableDay(days: number): boolean {
  return days >= FIRST_DAY && days <= LAST_DAY;
}

export function isPortableMicros(micros: Exact): boolean {
  if (typeof micros === "bigint") return micros >= BigInt(FIRST_DAY) * BigInt(MICROS_PER_DAY) && micros < BigInt(LAST_DAY + 1) * BigInt(MICROS_PER_DAY);
  return micros >= FIRST_DAY * MICROS_PER_DAY && micros < (LAST_DAY + 1) * MICROS_PER_DAY;
}

/**
 * A canonical date, timestamp or time of day that the logical types cannot hold, so that it
 * travels as text: the infinities, a year outside 0001–9999 (canonical forms spell those
 * "0000-" or with a sign), and the end of the day.
 */
export function isTemporalText(text: string): boolean {
  if (isInfinity(text)) return true;
  const c = text.charCodeAt(0);
  if (c === 43 /* + */ || c === 45 /* - */) return /^[+-]\d{6,}-\d\d-\d\d/.test(text);
  return text.startsWith("0000-") ? /^0000-\d\d-\d\d/.test(text) : text === "24:00:00.000000";
}

/** Reads "HH:MM:SS[.ffffff]" at `i`; returns microseconds of the day and the index after it. */
function readClock(s: string, i: number, what: string, text: string): [number, number] {
  if (s.charCodeAt(i + 2) !== 58 /* : */ || s.charCodeAt(i + 5) !== 58) throw invalidValue(what, text);
  const h = two(s, i);
  const mi = two(s, i + 3);
  const se = two(s, i + 6);
  if (!(h >= 0 && h <= 24 && mi >= 0 && mi <= 59 && se >= 0 && se <= 59)) throw invalidValue(what, text);
  let j = i + 8;
  let micros = 0;
  if (s.charCodeAt(j) === 46 /* . */) {
    j++;
    let scale = 100_000;
    while (j < s.length) {
      const c = s.charCodeAt(j) - 48;
      if (c < 0 || c > 9) break;
      if (scale >= 1) micros += c * scale;
      else if (c !== 0) throw invalidValue(what, text, "finer than a microsecond");
      scale /= 10;
      j++;
    }
  }
  const tod = ((h * 60 + mi) * 60 + se) * 1_000_000 + micros;
  if (tod > MICROS_PER_DAY) throw invalidValue(what, text);
  return [tod, j];
}

/** Seconds east of UTC from "Z", "+HH", "+HHMM", "+HH:MM" or "+HH:MM:SS"; undefined for garbage. */
function readOffset(s: string, i: number): number | undefined {
  if (i === s.length) return 0;
  const zone = s.slice(i);
  if (zone === "Z" || zone === "z") return 0;
  const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::(\d{2}))?$/.exec(zone);
  if (!m) return undefined;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === "-" ? -seconds : seconds;
}

/**
 * Microseconds since 1970 of a wall-clock date and time ("YYYY-MM-DD HH:MM:SS.ffffff", "T" also
 * accepted, any number of fraction digits up to 6). `zoned` also takes a UTC offset suffix and
 * applies it; without one the time is taken as UTC.
 */
export function parseTimestamp(text: string, zoned: boolean): Exact {
  const what = zoned ? "timestamp" : "local timestamp";
  const s = fromBc(text);
  const p = readDate(s);
  if (!p) throw invalidValue(what, text);
  const sep = s.charCodeAt(p.end);
  if (sep !== 32 && sep !== 84 /* T */) throw invalidValue(what, text);
  const days = checkCivil(p, what, text);
  const [tod, end] = readClock(s, p.end + 1, what, text);
  let micros = combine(days, tod);
  if (end !== s.length) {
    const offset = zoned ? readOffset(s, end) : undefined;
    if (offset === undefined) throw invalidValue(what, text);
    if (offset !== 0) {
      const shifted = typeof micros === "number" ? micros - offset * 1_000_000 : NaN;
      micros = Number.isSafeInteger(shifted) ? shifted : BigInt(micros) - BigInt(offset) * 1_000_000n;
    }
  }
  return micros;
}

export function formatTimestamp(micros: Exact, zoned: boolean): string {
  return formatDateTime(micros, zoned ? "Z" : "");
}

/** A time of day or a MySQL TIME duration: "[-]H+:MM:SS[.ffffff]", hours beyond 23 allowed. */
export function parseTime(text: string): number {
  const m = /^(-?)(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6})0*)?$/.exec(text);
  if (!m) throw invalidValue("time", text);
  const minutes = Number(m[3]);
  const seconds = Number(m[4]);
  if (minutes > 59 || seconds > 59) throw invalidValue("time", text);
  const micros = ((Number(m[2]) * 60 + minutes) * 60 + seconds) * 1_000_000 + Number((m[5] ?? "").padEnd(6, "0"));
  return m[1] === "-" ? -micros : micros;
}

export function formatTime(micros: number): string {
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const seconds = Math.floor(abs / 1_000_000);
  return `${negative ? "-" : ""}${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}.${formatFraction(abs % 1_000_000)}`;
}

/** Canonical forms straight from any accepted spelling (driver text, "T" or space, fewer digits). */
export const canonicalDate = (text: string): string => (isInfinity(text) ? text : formatDate(daysOfDate(text)));
export function canonicalTimestamp(text: string, zoned: boolean): string {
  if (isInfinity(text)) return text;
  const micros = parseTimestamp(text, zoned);
  return rearranged(text, zoned) ?? formatTimestamp(micros, zoned);
}

/**
 * The canonical form of a valid timestamp written "YYYY-MM-DD HH:MM:SS[.f…]" (4-digit year, hour
 * below 24, no offset) by moving its characters, not by formatting its microseconds again: the
 * common driver text; undefined for any other spelling.
 */
function rearranged(text: string, zoned: boolean): string | undefined {
  const length = text.length;
  if (length < 19 || length > 26 || (length > 19 && length < 21) || text.charCodeAt(13) !== 58 /* : */ || text.charCodeAt(16) !== 58) return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 32 && sep !== 84 /* T */) return undefined;
  if (length > 19 && text.charCodeAt(19) !== 46 /* . */) return undefined;
  for (let i = 0; i < length; i++) {
    if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16 || i === 19) continue;
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
  }
  if (text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(7) !== 45 || two(text, 11) > 23) return undefined;
  const zone = zoned ? "Z" : "";
  if (length === 26 && sep === 84) return `${text}${zone}`;
  const fraction = length === 19 ? ".000000" : `${text.slice(19)}${"000000".slice(length - 20)}`;
  return `${text.slice(0, 10)}T${text.slice(11, 19)}${fraction}${zone}`;
}
export const canonicalTime = (text: string): string => formatTime(parseTime(text));

/**
 * MySQL's dates that no calendar has: "zero" for the zero date itself (every part 0, time and
 * fraction included: "0000-00-00", "0000-00-00 00:00:00.000"), "partial" for a zero month, day or
 * year beside other parts ("2020-00-15", "2020-01-00 10:00:00.5", "0000-01-01"); undefined for
 * a calendar date.
 */
export function mysqlZeroDate(text: string): "zero" | "partial" | undefined {
  const p = readDate(text);
  if (p === undefined || (p.year !== 0 && !isZeroDate(p))) return undefined;
  return p.year === 0 && p.month === 0 && p.day === 0 && !/[1-9]/.test(text.slice(p.end)) ? "zero" : "partial";
}

// ---------------------------------------------------------------------------------------------
// UUID as MariaDB prints it (the binlog hands us its raw bytes).

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toUuid(value: unknown): string {
  if (Buffer.isBuffer(value) && value.length === 16) {
    const h = value.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  if (typeof value === "string") {
    const s = value.toLowerCase();
    if (UUID_TEXT.test(s)) return s;
  }
  throw invalidValue("uuid", value);
}

export function isUuid(value: string): boolean {
  return UUID_TEXT.test(value);
}
