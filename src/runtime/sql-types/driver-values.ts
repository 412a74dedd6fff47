/**
 * Values as the drivers hand them over that have no canonical form of their own in avro/values.ts:
 * MariaDB's INET4/INET6 (raw bytes from the binlog), PostgreSQL's bytea and array literals.
 */
import { invalidValue } from "../avro/values.js";

export function toInet4(value: unknown): string {
  if (Buffer.isBuffer(value) && value.length === 4) return `${value[0]}.${value[1]}.${value[2]}.${value[3]}`;
  if (typeof value === "string") return value;
  throw invalidValue("IPv4 address", value);
}

/**
 * MariaDB's INET6 text: the longest run of zero groups (even a single one, the first of equal
 * runs) becomes "::"; IPv4-mapped and IPv4-compatible addresses end in dotted quads.
 */
export function toInet6(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Buffer.isBuffer(value) || value.length !== 16) throw invalidValue("IPv6 address", value);
  const words = Array.from({ length: 8 }, (_, i) => value.readUInt16BE(i * 2));
  const v4 = words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || (words[5] === 0 && words[6] !== 0));
  const count = v4 ? 6 : 8;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < count; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < count && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number) => words.slice(from, to).map((w) => w.toString(16)).join(":");
  let text = best < 0 ? hex(0, count) : `${hex(0, best)}::${hex(best + bestLen, count)}`;
  if (v4) text = `${text}${text.endsWith(":") ? "" : ":"}${value[12]}.${value[13]}.${value[14]}.${value[15]}`;
  return text;
}

// PostgreSQL text forms.

/** bytea in hex output ("\x00ff"). */
export function toBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string" && /^\\x([0-9a-fA-F]{2})*$/.test(value)) return Buffer.from(value.slice(2), "hex");
  throw invalidValue("bytes", value);
}

/**
 * A one-dimensional PostgreSQL array literal, elements as text (null for NULL). Arrays with more
 * dimensions or with explicit bounds ("[0:1]={…}") have no lossless Avro array form: refused.
 */
const PG_SPACE = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;

export function parsePgArray(text: string): (string | null)[] {
  if (text.startsWith("[")) throw invalidValue("one-dimensional array starting at 1", text, "explicit bounds are not kept");
  if (!text.startsWith("{") || !text.endsWith("}")) throw invalidValue("array", text);
  const out: (string | null)[] = [];
  let i = 1;
  const end = text.length - 1;
  if (i === end) return out;
  for (;;) {
    const c = text[i];
    if (c === "{") throw invalidValue("one-dimensional array", text, "multi-dimensional arrays are not kept");
    if (c === '"') {
      let s = "";
      i++;
      while (i < end && text[i] !== '"') {
        if (text[i] === "\\") i++;
        s += text[i];
        i++;
      }
      out.push(s);
      i++;
    } else {
      let j = i;
      while (j < end && text[j] !== ",") j++;
      // PostgreSQL's white space is ASCII only (array_isspace): String.trim would also take a
      // leading BOM or no-break space, which the server writes unquoted as part of the element
      const raw = text.slice(i, j).replace(PG_SPACE, "");
      out.push(raw === "NULL" ? null : raw);
      i = j;
    }
    if (i >= end) return out;
    if (text[i] !== ",") throw invalidValue("array", text);
    i++;
  }
}
