/**
 * avsc types for the canonical forms of values.ts. avsc's own long refuses anything beyond 2^53
 * and it has no decimal, date, time or timestamp types, so these are ours. They are registered
 * once (LOGICAL_TYPES, built at load) and every avsc Type in Liberator comes from `avroType()`.
 *
 * The long-based types read and write their varints themselves: a timestamp then costs one parse
 * and one varint, with numbers while they are safe integers and bigints only beyond.
 */
import avsc, { type Schema, type Type } from "avsc";
import type { AvroSchema } from "../connector.js";
import {
  daysOfDate,
  digitCount,
  formatDate,
  formatDecimal,
  formatTime,
  formatTimestamp,
  fromTwosComplement,
  inInt64,
  invalidValue,
  isPortableDay,
  isPortableMicros,
  isTemporalText,
  isUuid,
  MICROS_PER_DAY,
  parseTime,
  parseTimestamp,
  twosComplement,
  unscaledDecimal,
  type Exact,
} from "./values.js";

const { Type: AvroTypes, types } = avsc;

/** avsc's write/read cursor (not in its typings). */
interface Tap {
  buf: Buffer;
  pos: number;
  readInt(): number;
}

type Hook = (value: unknown, type: Type) => void;

// ---------------------------------------------------------------------------------------------
// Exact zigzag varints.

/**
 * Writes a long: number arithmetic while its zigzag form (about 2|v|) is a safe integer, so
 * |v| <= 2^52; bigint beyond. avsc's own bound, |v| < 2^53, rounded the zigzag of negative values
 * below -2^52 to a neighbour.
 */
function writeLong(tap: Tap, v: number | bigint): void {
  const buf = tap.buf;
  if (typeof v === "number" && (v > 2 ** 52 || v < -(2 ** 52))) v = BigInt(v);
  if (typeof v === "bigint") {
    if (v >= -(2n ** 52n) && v <= 2n ** 52n) {
      v = Number(v);
    } else {
      let z = v < 0n ? (-v << 1n) - 1n : v << 1n;
      while (z > 0x7fn) {
        buf[tap.pos++] = Number(z & 0x7fn) | 0x80;
        z >>= 7n;
      }
      buf[tap.pos++] = Number(z);
      return;
    }
  }
  if (v >= -1073741824 && v < 1073741824) {
    let m = v >= 0 ? v << 1 : (~v << 1) | 1;
    while (m > 0x7f) {
      buf[tap.pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[tap.pos++] = m;
  } else {
    let f = v >= 0 ? v * 2 : -v * 2 - 1;
    while (f >= 128) {
      buf[tap.pos++] = (f % 128) | 0x80;
      f = Math.floor(f / 128);
    }
    buf[tap.pos++] = f;
  }
}

/**
 * Reads a long exactly: a number while its zigzag form stays below 2^53, a bigint otherwise.
 * Timestamps in microseconds take 8 varint bytes, so stopping at 7 sent every one of them through
 * bigint arithmetic (a tenth of a sink's garbage); the 8th byte adds at most 15 * 2^49.
 */
function readLong(tap: Tap): Exact {
  const buf = tap.buf;
  let pos = tap.pos;
  let b = buf[pos++]!;
  let n = b & 0x7f;
  let scale = 128;
  while (b & 0x80) {
    b = buf[pos++]!;
    if (scale === 2 ** 49 && (b & 0x80 || (b & 0x7f) > 15)) return readBigLong(tap);
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  tap.pos = pos;
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function readBigLong(tap: Tap): bigint {
  const buf = tap.buf;
  let z = 0n;
  let shift = 0n;
  let b: number;
  do {
    b = buf[tap.pos++] ?? 0;
    z |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
}

function invalid(type: Type, value: unknown): never {
  throw invalidValue(describeType(type), value);
}

/** A type as people read it in messages: "bytes(decimal 10,2)", "long(timestamp-micros)", "null | string". */
export function describeType(type: Type): string {
  if (type instanceof DecimalType) return `${describeType(type.underlyingType)}(decimal ${type.precision},${type.scale})`;
  if (type instanceof types.LogicalType) return `${describeType(type.underlyingType)}(${type.typeName.slice("logical:".length)})`;
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) {
    return (type as unknown as { types: Type[] }).types.map(describeType).join(" | ");
  }
  if (type instanceof types.ArrayType) return `array<${describeType(type.itemsType)}>`;
  if (type instanceof types.MapType) return `map<${describeType(type.valuesType as Type)}>`;
  if (type instanceof types.FixedType) return `fixed(${type.size})`;
  if (type.name) return `${type.typeName} ${type.name}`;
  return type === BIG_LONG ? "long" : type.typeName;
}

// ---------------------------------------------------------------------------------------------
// long as bigint

/** Avro long as a JS bigint (safe-integer numbers accepted when writing). Replaces avsc's long everywhere. */
class BigLongType extends types.LongType {
  _check(value: unknown, _flags?: unknown, hook?: Hook): boolean {
    const ok = typeof value === "bigint" ? inInt64(value) : Number.isSafeInteger(value);
    if (!ok && hook) hook(value, this);
    return ok;
  }

  _read(tap: Tap): bigint {
    const v = readLong(tap);
    return typeof v === "bigint" ? v : BigInt(v);
  }

  _write(tap: Tap, value: unknown): void {
    if (!this._check(value)) invalid(this, value);
    writeLong(tap, value as number | bigint);
  }

  _copy(value: unknown, opts?: { coerce?: number }): unknown {
    const v = typeof value === "bigint" ? value : typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : undefined;
    if (v === undefined || !inInt64(v)) invalid(this, value);
    // coerce 3: to JSON, where a long is a number (exact only while it is safe)
    if (opts?.coerce === 3) return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  }

  _update(resolver: { _read?: (tap: Tap) => unknown }, writer: Type): void {
    if (writer.typeName === "int") resolver._read = (tap) => BigInt(tap.readInt());
    else if (writer.typeName === "long" || writer.typeName === "abstract:long") resolver._read = (tap) => this._read(tap);
  }

  override compare(a: bigint | number, b: bigint | number): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }

}

// avsc's unions pick a branch by the JS type of the value ("number" for long): an "abstract" type
// name makes them ask our _check instead, which knows bigints. The schema still says "long".
Object.defineProperty(BigLongType.prototype, "typeName", { value: "abstract:long" });
Object.defineProperty(BigLongType.prototype, "_concreteTypeName", { value: "long" });
Object.defineProperty(BigLongType.prototype, "_deref", { value: () => "long" });

const BIG_LONG = new BigLongType();

// ---------------------------------------------------------------------------------------------
// Logical types

/**
 * Our logical types read only values written under the same logical type (and, for decimals,
 * the same scale and no more precision): reading a local timestamp as a UTC one, or 2 fraction
 * digits as 4, would decode without error into a different value. Schema resolution (and so the
 * compatibility check) refuses those changes through `_resolve`.
 */
abstract class ExactLogicalType extends types.LogicalType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    // avsc built the underlying long before our hook could see it: swap in the exact one, which is
    // what it falls back to when a plain long reader unwraps us during resolution.
    if (this.underlyingType.typeName === "long") (this as unknown as { _underlyingType: Type })._underlyingType = BIG_LONG;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    return writer.constructor === this.constructor && this.reads(writer as this) ? (value) => value : undefined;
  }

  protected reads(_writer: this): boolean {
    return true;
  }
}

/**
 * Whether a value of `type` means something else when read as its underlying type: days as a bare
 * int, a decimal's bytes as text. avsc would let a reader without the logical type read it (Avro
 * resolves underlying types only); the compatibility check refuses that. A uuid is its text either way.
 */
export function losesMeaningUnannotated(type: Type): boolean {
  return type instanceof ExactLogicalType && !(type instanceof UuidType) && !(type instanceof MicroTimeType) && !(type instanceof TemporalTextType);
}

/** Long-based types own their varints, so a timestamp never goes through a bigint when it needs not. */
abstract class ExactLongType extends ExactLogicalType {
  _read(tap: Tap): unknown {
    return this._fromValue(readLong(tap));
  }

  _write(tap: Tap, value: unknown): void {
    writeLong(tap, this._toValue(value) as Exact);
  }
}

class TimestampType extends ExactLongType {
  protected readonly zoned: boolean = true;

  protected override _toValue(value: unknown): Exact {
    if (typeof value !== "string") invalid(this, value);
    const micros = parseTimestamp(value, this.zoned);
    if (!isPortableMicros(micros)) throw invalidValue(describeType(this), value, "outside years 0001-9999, which decoders hold");
    return micros;
  }

  protected override _fromValue(micros: Exact): string {
    return formatTimestamp(typeof micros === "bigint" && Number.isSafeInteger(Number(micros)) ? Number(micros) : micros, this.zoned);
  }
}

class LocalTimestampType extends TimestampType {
  protected override readonly zoned = false;
}

/** The Avro spec's time-micros: microseconds after midnight, a time of day. */
class TimeMicrosType extends ExactLongType {
  protected override _toValue(value: unknown): number {
    if (typeof value !== "string") invalid(this, value);
    const micros = parseTime(value);
    if (micros < 0 || micros >= MICROS_PER_DAY) throw invalidValue(describeType(this), value, "not a time of day");
    return micros;
  }

  protected override _fromValue(micros: Exact): string {
    return formatTime(Number(micros));
  }
}

class DateType extends ExactLogicalType {
  protected override _toValue(value: unknown): number {
    if (typeof value !== "string") invalid(this, value);
    const days = daysOfDate(value);
    if (!isPortableDay(days)) throw invalidValue(describeType(this), value, "outside years 0001-9999, which decoders hold");
    return days;
  }

  protected override _fromValue(days: number): string {
    return formatDate(days);
  }
}

// Kafka Connect names (`connect.name`) that give a type its meaning without an Avro logical type,
// for values no logical type of the spec describes. Decoders that do not know the name still read
// the plain type; ours turn it into the canonical form.

/** A duration in microseconds, signed, any length (MySQL's TIME), as Debezium writes it. */
export const MICRO_TIME_NAME = "io.debezium.time.MicroTime";
/** The branch beside a date, timestamp or time-micros for what they cannot hold (values.ts isTemporalText). */
export const TEMPORAL_TEXT_NAME = "io.liberator.time.Text";


/**
 * The schema a named type hands avsc's LogicalType: the same, with its connect.name as the logical
 * type avsc names it by ("logical:io.debezium.time.MicroTime"). Only avsc sees that; the schema
 * written to the registry has no logicalType.
 */
function asLogical(schema: Schema, name: string): Schema {
  return { ...(schema as object), logicalType: name } as Schema;
}

/** io.debezium.time.MicroTime: "[-]HH:MM:SS.ffffff", hours past 23. Reads time-micros too: a time of day is a duration. */
class MicroTimeType extends ExactLongType {
  constructor(schema: Schema, opts?: unknown) {
    super(asLogical(schema, MICRO_TIME_NAME), opts);
  }

  protected override _toValue(value: unknown): number {
    if (typeof value !== "string") invalid(this, value);
    return parseTime(value);
  }

  protected override _fromValue(micros: Exact): string {
    return formatTime(Number(micros));
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    return writer instanceof MicroTimeType || writer instanceof TimeMicrosType ? (value) => value : undefined;
  }
}

/** io.liberator.time.Text: the text of a temporal value its sibling branch cannot hold; nothing else. */
class TemporalTextType extends ExactLogicalType {
  constructor(schema: Schema, opts?: unknown) {
    super(asLogical(schema, TEMPORAL_TEXT_NAME), opts);
  }

  protected override _toValue(value: unknown): string {
    if (typeof value !== "string" || !isTemporalText(value)) invalid(this, value);
    return value;
  }

  protected override _fromValue(value: string): string {
    return value;
  }
}

class UuidType extends ExactLogicalType {
  protected override _toValue(value: unknown): string {
    if (typeof value !== "string" || !isUuid(value)) invalid(this, value);
    return value;
  }

  protected override _fromValue(value: string): string {
    return value;
  }

  /** A uuid reader accepts plain strings too: the same text, now promised to be a UUID. */
  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    return writer.typeName === "string" || writer instanceof UuidType ? (value) => value : undefined;
  }
}

/** Up to this many significant digits an unscaled decimal stays below 2^47: number arithmetic is exact. */
const SMALL_DIGITS = 14;
const POW10 = Array.from({ length: SMALL_DIGITS + 1 }, (_, i) => 10 ** i);

/**
 * Decimal over bytes (or fixed). The canonical value is text; up to 14 significant digits the
 * unscaled integer and its two's complement are computed with numbers, beyond with bigints.
 */
export class DecimalType extends ExactLogicalType {
  readonly precision: number;
  readonly scale: number;
  /** Fixed size, or undefined over bytes. */
  private readonly size: number | undefined;

  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    const s = schema as { precision?: unknown; scale?: unknown; size?: unknown; type?: unknown };
    const precision = s.precision;
    const scale = s.scale ?? 0;
    if (!Number.isInteger(precision) || !Number.isInteger(scale) || (precision as number) < 1 || (scale as number) < 0 || (scale as number) > (precision as number)) {
      throw new Error(`invalid decimal precision/scale: ${JSON.stringify(schema)}`);
    }
    this.precision = precision as number;
    this.scale = scale as number;
    this.size = this.underlyingType.typeName === "fixed" ? (s.size as number) : undefined;
  }

  protected override reads(writer: DecimalType): boolean {
    return writer.scale === this.scale && writer.precision <= this.precision;
  }

  protected override _export(attrs: Schema): void {
    Object.assign(attrs, { precision: this.precision, scale: this.scale });
  }

  protected override _toValue(value: unknown): Buffer {
    const unscaled = this.unscaled(value);
    const bytes = twosComplement(BigInt(unscaled));
    return this.size === undefined ? bytes : signExtend(bytes, this.size, this);
  }

  protected override _fromValue(bytes: Buffer): string {
    return formatDecimal(fromTwosComplement(bytes), this.scale);
  }

  _write(tap: Tap, value: unknown): void {
    const unscaled = this.unscaled(value);
    if (typeof unscaled === "number") writeSmallTwosComplement(tap, unscaled, this.size);
    else {
      const bytes = this.size === undefined ? twosComplement(unscaled) : signExtend(twosComplement(unscaled), this.size, this);
      if (this.size === undefined) writeLong(tap, bytes.length);
      bytes.copy(tap.buf, tap.pos);
      tap.pos += bytes.length;
    }
  }

  _read(tap: Tap): string {
    const length = this.size ?? Number(readLong(tap));
    const start = tap.pos;
    tap.pos += length;
    const buf = tap.buf;
    if (length <= 6) {
      let n = 0;
      for (let i = start; i < tap.pos; i++) n = n * 256 + (buf[i] ?? 0);
      if (length > 0 && buf[start]! & 0x80) n -= 2 ** (8 * length);
      return formatDecimal(n, this.scale);
    }
    return formatDecimal(fromTwosComplement(buf, start, Math.min(tap.pos, buf.length)), this.scale);
  }

  /** The unscaled integer: a number up to 14 significant digits, a bigint beyond. */
  private unscaled(value: unknown): number | bigint {
    if (typeof value !== "string") invalid(this, value);
    const n = smallUnscaled(value, this.scale);
    if (n === undefined) {
      const big = unscaledDecimal(value, this.scale);
      if (digitCount(big) > this.precision) throw invalidValue(describeType(this), value, `more than ${this.precision} digits`);
      return big;
    }
    if (Number.isNaN(n)) invalid(this, value);
    if (this.precision < SMALL_DIGITS && Math.abs(n) >= POW10[this.precision]!) {
      throw invalidValue(describeType(this), value, `more than ${this.precision} digits`);
    }
    return n;
  }
}

/**
 * Plain decimal text to its unscaled integer at `scale` when that has at most 14 significant
 * digits; undefined when it has more (the caller takes the bigint path); NaN when it is no decimal.
 */
function smallUnscaled(text: string, scale: number): number | undefined {
  const length = text.length;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45) {
    negative = true;
    i = 1;
  } else if (first === 43) i = 1;
  let n = 0;
  let digits = 0;
  let fraction = -1;
  let any = false;
  for (; i < length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c === -2 && fraction < 0) {
      fraction = 0;
      continue;
    }
    if (c < 0 || c > 9) return NaN;
    any = true;
    if (fraction >= 0) {
      if (fraction === scale) {
        if (c !== 0) return undefined; // the exact path reports it
        continue;
      }
      fraction++;
    }
    if ((n !== 0 || c !== 0) && ++digits > SMALL_DIGITS) return undefined;
    n = n * 10 + c;
  }
  if (!any) return NaN;
  const missing = scale - Math.max(fraction, 0);
  if (n !== 0) {
    if (digits + missing > SMALL_DIGITS) return undefined;
    n *= POW10[missing]!;
  }
  return negative ? -n : n;
}

/** Two's complement of |n| < 2^47, shortest form (or `size` bytes), written straight into the tap. */
function writeSmallTwosComplement(tap: Tap, n: number, size: number | undefined): void {
  let length = 1;
  let limit = 128;
  while (n >= limit || n < -limit) {
    length++;
    limit *= 256;
  }
  if (size !== undefined) {
    length = size;
  } else {
    writeLong(tap, length);
  }
  const buf = tap.buf;
  let u = n < 0 ? n + 2 ** (8 * Math.min(length, 6)) : n;
  const fill = n < 0 ? 0xff : 0;
  for (let i = length - 1; i >= 0; i--) {
    buf[tap.pos + i] = length - i > 6 ? fill : u % 256;
    u = Math.floor(u / 256);
  }
  tap.pos += length;
}

function signExtend(bytes: Buffer, size: number, type: Type): Buffer {
  if (bytes.length > size) invalid(type, formatDecimal(fromTwosComplement(bytes), (type as DecimalType).scale));
  const out = Buffer.alloc(size, bytes[0]! & 0x80 ? 0xff : 0);
  bytes.copy(out, size - bytes.length);
  return out;
}

/** Registered once; every avsc Type in Liberator is built with these. */
const LOGICAL_TYPES = {
  decimal: DecimalType,
  date: DateType,
  "time-micros": TimeMicrosType,
  "timestamp-micros": TimestampType,
  "local-timestamp-micros": LocalTimestampType,
  uuid: UuidType,
};

/**
 * Our Kafka Connect named types (without a logical type of their own), and every plain long (and
 * longs under logical types we do not know) as the exact bigint long.
 */
function typeHook(schema: Schema, opts: unknown): Type | undefined {
  if (schema === "long") return BIG_LONG;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return undefined;
  const s = schema as { type?: unknown; logicalType?: unknown; "connect.name"?: unknown };
  if (s.logicalType === undefined && s.type === "long" && s["connect.name"] === MICRO_TIME_NAME) return new MicroTimeType(schema, opts);
  if (s.logicalType === undefined && s.type === "string" && s["connect.name"] === TEMPORAL_TEXT_NAME) return new TemporalTextType(schema, opts);
  if (s.type === "long" && (typeof s.logicalType !== "string" || !(s.logicalType in LOGICAL_TYPES))) return BIG_LONG;
  return undefined;
}

/**
 * The avsc Type of a schema, with exact longs and our logical types; unions are never wrapped
 * (a nullable value is the value or null). Throws avsc's error for an invalid schema.
 */
export function avroType(schema: AvroSchema): Type {
  return AvroTypes.forSchema(schema, { logicalTypes: LOGICAL_TYPES, typeHook, wrapUnions: "never" });
}
