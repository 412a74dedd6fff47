/**
 * A MySQL/MariaDB result column (the protocol's column definition) as a ColumnInfo, for custom
 * query columns that do not come straight from a table: the type code, flags, length and
 * decimals spelled the way information_schema's COLUMN_TYPE would spell them.
 */
import type { FieldPacket } from "mysql2/promise";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";

const NOT_NULL = 1;
const UNSIGNED = 32;
const ENUM = 256;
const SET = 2048;
const BINARY_CHARSET = 63;

const INTEGERS: Record<number, string> = { 1: "tinyint", 2: "smallint", 9: "mediumint", 3: "int", 8: "bigint" };
const TEMPORALS: Record<number, string> = { 7: "timestamp", 12: "datetime", 11: "time" };

function flagsOf(field: FieldPacket): number {
  return typeof field.flags === "number" ? field.flags : 0;
}

/** Fraction digits of a temporal result column; 31 is the protocol's "not fixed". */
const fraction = (decimals: number) => (decimals > 6 ? 6 : decimals);

function typeOf(field: FieldPacket): string {
  const code = field.columnType ?? field.type ?? -1;
  const flags = flagsOf(field);
  const unsigned = flags & UNSIGNED ? " unsigned" : "";
  const length = field.columnLength ?? 0;
  const binary = field.characterSet === BINARY_CHARSET;
  if (field.extendedTypeName && ["uuid", "inet4", "inet6"].includes(field.extendedTypeName)) return field.extendedTypeName;
  if (field.extendedFormat === "json") return "json";
  if (INTEGERS[code]) return `${INTEGERS[code]}${unsigned}`;
  if (TEMPORALS[code]) {
    const digits = fraction(field.decimals);
    return digits > 0 ? `${TEMPORALS[code]}(${digits})` : TEMPORALS[code];
  }
  switch (code) {
    case 0:
    case 246: {
      // the display length counts the sign and the decimal point
      const scale = field.decimals;
      const precision = length - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return `decimal(${Math.max(precision, 1)},${scale})${unsigned}`;
    }
    case 4:
      return "float";
    case 5:
      return "double";
    case 10:
    case 14:
      return "date";
    case 13:
      return "year";
    case 16:
      return `bit(${Math.max(length, 1)})`;
    case 245:
      return "json";
    case 247:
      return "enum";
    case 248:
      return "set";
    case 249:
    case 250:
    case 251:
    case 252:
      return binary ? "blob" : "text";
    case 15:
    case 253:
    case 254:
      if (flags & ENUM) return "enum";
      if (flags & SET) return "set";
      return binary ? "varbinary" : "varchar";
    case 255:
      return "geometry";
    default:
      return `unknown type ${code}`;
  }
}

export function resultColumnInfo(field: FieldPacket): ColumnInfo {
  return { name: field.name, dialect: "mysql", sqlType: typeOf(field), nullable: (flagsOf(field) & NOT_NULL) === 0 };
}

/** A fingerprint of a result's columns: equal fingerprints read into the same stream. */
export function resultShape(fields: readonly FieldPacket[]): string {
  let shape = "";
  for (const f of fields) shape += `${f.name}\u0000${f.columnType ?? f.type}\u0000${flagsOf(f) & (NOT_NULL | UNSIGNED | ENUM | SET)}\u0000${f.columnLength}\u0000${f.decimals}\u0000${f.characterSet}\u0001`;
  return shape;
}
