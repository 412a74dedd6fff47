/**
 * Application JSON ⇄ the canonical values of src/runtime/avro/values.ts, walking the event's
 * Avro type. The relay uses `fromJson` on every payload before it leaves; the application helper
 * (src/outbox.ts) uses both, so an event it accepts is stored in the form the relay reads.
 *
 * JSON has no long, decimal, bytes or timestamp, so each has one spelling and nothing is guessed:
 * - long: a number while it is a safe integer, else a string of digits (a JSON number past 2^53
 *   has already lost digits when it is parsed: it is refused, not rounded);
 * - decimal: a string ("12.30"); a number only when the precision is at most 15, which a double
 *   holds exactly;
 * - bytes and fixed: base64;
 * - date, time, timestamps: ISO text ("2024-02-29", "12:00:00.5", "2024-02-29T12:00:00Z" or with
 *   an offset), or the underlying number (days, microseconds);
 * - a union takes the first branch the value fits; Avro's JSON encoding `{"string": "x"}` also works.
 * A field missing from the JSON takes its default; a key the schema does not have is refused
 * (most often a typo, and it would be dropped without a word).
 */
import avsc, { type Type } from "avsc";
import { DataError, ErrorCode, LiberatorError } from "../../runtime/errors.js";
import { DecimalType, describeType, MICRO_TIME_NAME, TEMPORAL_TEXT_NAME } from "../../runtime/avro/logical-types.js";
import {
  canonicalDate,
  canonicalTime,
  canonicalTimestamp,
  formatDate,
  formatTime,
  formatTimestamp,
  invalidValue,
  preview,
  toInt,
  toDecimal,
  toLong,
  toUuid,
} from "../../runtime/avro/values.js";
import { isObject } from "../../runtime/json.js";

const { types } = avsc;

/** A payload does not fit its schema: which field, what it holds, what was expected. */
export class PayloadError extends DataError {
  constructor(
    readonly field: string,
    readonly reason: string,
    /** Which event, when the caller knows it. */
    about?: string,
  ) {
    super(ErrorCode.OUTBOX_PAYLOAD_INVALID, `${about ? `${about}: ` : ""}${field ? `field "${field}"` : "the payload"}: ${reason}`);
  }
}

/** The same error one level up: `qty` becomes `lines[0].qty`. Paths are built only on failure. */
function within(err: unknown, name: string | number): unknown {
  if (!(err instanceof PayloadError)) return err;
  const step = typeof name === "number" ? `[${name}]` : name;
  return new PayloadError(err.field ? `${step}${err.field.startsWith("[") ? "" : "."}${err.field}` : step, err.reason);
}

/** The canonical value of `json` under `type`; throws PayloadError naming the field. */
export function fromJson(type: Type, json: unknown): unknown {
  try {
    return convert(type, json);
  } catch (err) {
    if (err instanceof PayloadError) throw err;
    if (err instanceof LiberatorError) throw new PayloadError("", err.message);
    throw err;
  }
}

function convert(type: Type, v: unknown): unknown {
  if (type instanceof types.RecordType) return record(type, v);
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) return union(type.types, v);
  if (v === null || v === undefined) {
    if (type instanceof types.NullType) return null;
    throw new PayloadError("", `is missing; expected ${describeType(type)}`);
  }
  if (type instanceof DecimalType) return decimal(type, v);
  if (type instanceof types.LogicalType) return logical(type, v);
  if (type instanceof types.ArrayType) {
    if (!Array.isArray(v)) throw mismatch(type, v);
    return v.map((item, i) => nested(type.itemsType, item, i));
  }
  if (type instanceof types.MapType) {
    if (!isObject(v)) throw mismatch(type, v);
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = nested(type.valuesType as Type, item, k);
    return out;
  }
  if (type instanceof types.EnumType) {
    if (typeof v === "string" && type.symbols.includes(v)) return v;
    throw new PayloadError("", `${preview(v)} is not one of ${type.symbols.join(", ")}`);
  }
  if (type instanceof types.FixedType || type instanceof types.BytesType) {
    const bytes = Buffer.isBuffer(v) ? v : typeof v === "string" && BASE64.test(v) ? Buffer.from(v, "base64") : undefined;
    const size = type instanceof types.FixedType ? type.size : undefined;
    if (bytes && (size === undefined || bytes.length === size)) return bytes;
    throw new PayloadError("", `${preview(v)} is not ${size === undefined ? "" : `${size} bytes in `}base64`);
  }
  switch (type.typeName) {
    case "string":
      if (typeof v === "string") return v;
      break;
    case "boolean":
      if (typeof v === "boolean") return v;
      break;
    case "int":
      return toInt(v);
    case "abstract:long":
    case "long":
      if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) {
        throw new PayloadError("", `${v} is beyond 2^53, where JSON numbers lose digits: write it as a string of digits`);
      }
      return toLong(v);
    case "float":
    case "double": {
      const n = typeof v === "number" ? v : v === "NaN" || v === "Infinity" || v === "-Infinity" ? Number(v) : undefined;
      if (n !== undefined) return type.typeName === "float" ? Math.fround(n) : n;
      break;
    }
  }
  throw mismatch(type, v);
}

/** A value inside another: its errors name the way to it. */
function nested(type: Type, v: unknown, name: string | number): unknown {
  try {
    return fromJson(type, v);
  } catch (err) {
    throw within(err, name);
  }
}

function record(type: avsc.types.RecordType, v: unknown): Record<string, unknown> {
  if (!isObject(v)) throw mismatch(type, v);
  const out: Record<string, unknown> = {};
  let used = 0;
  for (const field of type.fields) {
    const given = v[field.name];
    if (given === undefined) {
      const fallback: unknown = field.defaultValue();
      if (fallback === undefined) throw new PayloadError(field.name, `is missing; expected ${describeType(field.type)}`);
      out[field.name] = fallback;
    } else {
      out[field.name] = nested(field.type, given, field.name);
      used++;
    }
  }
  const keys = Object.keys(v);
  if (keys.length !== used) {
    const unknown = keys.find((k) => v[k] !== undefined && !(k in out));
    if (unknown !== undefined) {
      throw new PayloadError(unknown, `is not a field of ${type.name ?? "the record"} (its fields: ${type.fields.map((f) => f.name).join(", ")})`);
    }
  }
  return out;
}

function union(branches: Type[], v: unknown): unknown {
  if (v === null || v === undefined) {
    if (branches.some((b) => b instanceof types.NullType)) return null;
    throw new PayloadError("", `is missing; expected ${branches.map(describeType).join(" | ")}`);
  }
  let first: PayloadError | undefined;
  for (const branch of branches) {
    if (branch instanceof types.NullType) continue;
    try {
      return fromJson(branch, v);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      first ??= err;
    }
  }
  // Avro's own JSON encoding names the branch: {"string": "x"}, {"com.acme.Address": {...}}
  const keys = isObject(v) ? Object.keys(v) : [];
  const named = keys.length === 1 ? branches.find((b) => branchName(b) === keys[0]) : undefined;
  if (named) return fromJson(named, (v as Record<string, unknown>)[keys[0]!]);
  if (branches.filter((b) => !(b instanceof types.NullType)).length === 1 && first) throw first;
  throw new PayloadError("", `${preview(v)} fits none of ${branches.map(describeType).join(" | ")}`);
}

function logical(type: avsc.types.LogicalType, v: unknown): string {
  const name = type.typeName.slice("logical:".length);
  const numeric = typeof v === "number" && Number.isSafeInteger(v);
  const text = typeof v === "string" ? v : v instanceof Date ? v.toISOString() : undefined;
  switch (name) {
    case "date":
      if (numeric) return formatDate(v);
      if (text !== undefined) return canonicalDate(text);
      break;
    case "time-micros":
    case MICRO_TIME_NAME:
      if (numeric) return formatTime(v);
      if (text !== undefined) return canonicalTime(text);
      break;
    case TEMPORAL_TEXT_NAME:
      if (text !== undefined) return text;
      break;
    case "timestamp-micros":
    case "local-timestamp-micros": {
      const zoned = name === "timestamp-micros";
      if (numeric) return formatTimestamp(v, zoned);
      if (text !== undefined) return canonicalTimestamp(text, zoned);
      break;
    }
    case "uuid":
      return toUuid(v);
  }
  throw invalidValue(describeType(type), v);
}

function decimal(type: DecimalType, v: unknown): string {
  if (typeof v === "string" || typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v))) return toDecimal(v, type.precision, type.scale);
  // a double holds 15 significant digits exactly: its shortest spelling is the JSON text's value
  if (typeof v === "number" && Number.isFinite(v) && type.precision <= 15 && !/e/i.test(String(v))) return toDecimal(String(v), type.precision, type.scale);
  throw new PayloadError("", `${preview(v)} is not ${article(describeType(type))}${typeof v === "number" ? ": write decimals as strings" : ""}`);
}

function mismatch(type: Type, v: unknown): PayloadError {
  return new PayloadError("", `${preview(v)} is not ${article(describeType(type))}`);
}

const article = (t: string) => (/^[aeiou]/i.test(t) ? `an ${t}` : `a ${t}`);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function branchName(type: Type): string | undefined {
  return type.branchName ?? (type.typeName === "abstract:long" ? "long" : type.typeName);
}

/**
 * A canonical value as JSON that `fromJson` reads back to the same value: longs past 2^53 and
 * non-finite doubles as strings, bytes as base64. What the application helper stores.
 */
export function toJson(type: Type, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type instanceof types.RecordType) {
    const out: Record<string, unknown> = {};
    for (const field of type.fields) out[field.name] = toJson(field.type, (v as Record<string, unknown>)[field.name]);
    return out;
  }
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) {
    const branch = type.types.find((b) => !(b instanceof types.NullType) && b.isValid(v));
    return branch ? toJson(branch, v) : v;
  }
  if (type instanceof types.ArrayType) return (v as unknown[]).map((item) => toJson(type.itemsType, item));
  if (type instanceof types.MapType) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, item]) => [k, toJson(type.valuesType as Type, item)]));
  }
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
}
