/**
 * Delivered values as a consumer that is not Liberator reads them: the Confluent wire format, the
 * writer schema fetched by id from the registry's REST API, the body decoded by avsc WITHOUT
 * logical types (longs as bigint, decimals as bytes, dates as day numbers), so that none of our
 * own conversions stands between the bytes in Kafka and the oracle's comparison.
 */
import avro from "avsc";

/** A long as a bigint: timestamps in microseconds pass 2^53. */
const BIG_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === "bigint",
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Every long of a schema, named or with a logical type, is read by BIG_LONG. */
const longs = (schema: unknown) => (schema === "long" || (typeof schema === "object" && schema !== null && (schema as { type?: unknown }).type === "long") ? BIG_LONG : undefined);

/** A field's value: null, or its union branch's underlying type name and the plain value. */
export type Raw = null | { branch: string; value: unknown };

export interface RawReader {
  /** The `after` row of a change message, field by field; null for a tombstone or a delete. */
  after(message: Buffer | null): Promise<Record<string, Raw> | null>;
}

export function rawReader(registryUrl: string): RawReader {
  const types = new Map<number, Promise<avro.Type>>();
  const typeOf = (id: number) => {
    let t = types.get(id);
    if (!t) {
      t = (async () => {
        const res = await fetch(`${registryUrl}/schemas/ids/${id}`);
        if (!res.ok) throw new Error(`registry: schema ${id}: HTTP ${res.status}`);
        const { schema } = (await res.json()) as { schema: string };
        return avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { wrapUnions: true, typeHook: longs });
      })();
      types.set(id, t);
    }
    return t;
  };
  const unwrap = (v: unknown): Raw => {
    if (v === null) return null;
    const [branch, value] = Object.entries(v as Record<string, unknown>)[0]!;
    return { branch, value };
  };
  return {
    async after(message) {
      if (message === null) return null;
      if (message[0] !== 0) throw new Error(`not the Confluent wire format: magic byte ${message[0]}`);
      const type = await typeOf(message.readInt32BE(1));
      const envelope = type.fromBuffer(message.subarray(5)) as { after: Record<string, Record<string, unknown>> | null };
      if (envelope.after === null) return null;
      const row = Object.values(envelope.after)[0]!;
      const wrapped = (v: unknown) => v !== null && typeof v === "object" && !Buffer.isBuffer(v) && !Array.isArray(v) && typeof v !== "bigint";
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : wrapped(v) ? unwrap(v) : { branch: "", value: v }]));
    },
  };
}

/** A two's-complement big-endian integer (Avro's decimal bytes). */
export function unscaled(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let n = BigInt(`0x${bytes.toString("hex")}`);
  if (bytes[0]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  return n;
}

/** An unscaled integer with `scale` fraction digits, as SQL prints a DECIMAL: "-0.0500". */
export function decimalText(n: bigint, scale: number): string {
  const sign = n < 0n ? "-" : "";
  const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, "0");
  return scale === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * Days since 1970-01-01 as a proleptic Gregorian date, any year (Hinnant's civil_from_days). The
 * same algorithm as src/runtime/avro/values.ts, kept apart on purpose: the oracle does not share
 * the code it judges.
 */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const pad = (n: number | bigint, width: number) => String(n).padStart(width, "0");

/** "YYYY-MM-DD" of a day number (years 0-9999). */
export function dateText(days: number): string {
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** "YYYY-MM-DD HH:MM:SS.ffffff" of microseconds since 1970-01-01 00:00:00. */
export function dateTimeText(micros: bigint): string {
  const day = 86_400_000_000n;
  let days = micros / day;
  let rest = micros % day;
  if (rest < 0n) {
    rest += day;
    days -= 1n;
  }
  return `${dateText(Number(days))} ${clockText(rest)}`;
}

/** "[-]HH:MM:SS.ffffff" of a signed duration in microseconds (hours may pass 24). */
export function durationText(micros: bigint): string {
  const sign = micros < 0n ? "-" : "";
  return sign + clockText(micros < 0n ? -micros : micros);
}

function clockText(micros: bigint): string {
  const s = micros / 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}.${pad(micros % 1_000_000n, 6)}`;
}

/** SQL's temporal text with its fraction, if any, padded to 6 digits: "10:00:00" → "10:00:00.000000". */
export function sixDigits(text: string): string {
  const dot = text.lastIndexOf(".");
  return dot < 0 || text.indexOf(":", dot) >= 0 ? `${text}.000000` : `${text.slice(0, dot + 1)}${text.slice(dot + 1).padEnd(6, "0")}`;
}
