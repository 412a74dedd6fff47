/**
 * What a masked or hashed field looks like, in its schema and its values. One place, since a
 * connector's per-table `columns: {mask, hash}` and a stream's `pii` declaration are the same
 * handling (decorate.ts applies both) and dead letters are scrubbed the same way.
 */
import { createHmac } from "node:crypto";
import type { AvroField } from "../sql-types/mapping.js";

export const PII_ATTRIBUTE = "liberator.pii";

export const MASK = "****";

export type PiiReplacement = "masked" | "hashed";

/**
 * The field that stands for a masked or hashed column: a string (nullable when the column is), no
 * default but null (a column default would publish a value in the schema), a doc saying what was
 * done.
 */
export function replacedField(field: AvroField, column: string, how: PiiReplacement): AvroField {
  const nullable = Array.isArray(field.type) && field.type.includes("null");
  return {
    name: field.name,
    type: nullable ? ["null", "string"] : "string",
    ...(nullable ? { default: null } : {}),
    doc: how === "masked" ? `masked: the value of column ${column} is not published` : `HMAC-SHA256 (hex) of column ${column}`,
    [PII_ATTRIBUTE]: how,
  };
}

/** What replaces a canonical value (null stays null): "****", or its keyed HMAC-SHA256 in hex. */
export function replacedValue(how: PiiReplacement, hashKey: string | undefined): (canonical: unknown) => string | null {
  if (how === "masked") return (v) => (v === null || v === undefined ? null : MASK);
  if (!hashKey) throw new Error("hashing needs a key");
  return (v) => (v === null || v === undefined ? null : createHmac("sha256", hashKey).update(hashInput(v)).digest("hex"));
}

/** One byte string per canonical value, so equal values (whatever the driver) hash equal. */
function hashInput(value: unknown): Buffer | string {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
