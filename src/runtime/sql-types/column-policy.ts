/**
 * Per-table column rules every source applies the same way (DESIGN.md §4, "masked or hashed per
 * table (PII) and excluded by config"): a column can be left out, masked, or replaced by a keyed
 * hash. The schema says what was done (field doc and `liberator.pii`), so consumers and
 * `liberator streams show` can tell a hash from the clear value.
 */
import { createHmac } from "node:crypto";
import { z } from "zod";
import { stringList } from "../config/fields.js";
import { ErrorCode, PreconditionError } from "../errors.js";
import type { AvroField, MappedColumn } from "./mapping.js";

export const PII_ATTRIBUTE = "liberator.pii";

/** The `columns:` block of a table in a source's config. */
export const columnPolicySchema = z.strictObject({
  /** Only these columns (the key columns are always kept). */
  include: stringList().optional(),
  exclude: stringList().optional(),
  /** Replaced by "****" (null stays null): presence is kept, the value is not. */
  mask: stringList().optional(),
  /** Replaced by a keyed HMAC-SHA256 (hex) of the value: equal values hash equal, so joins still work. */
  hash: stringList().optional(),
});

export type ColumnPolicy = z.infer<typeof columnPolicySchema>;

export const MASK = "****";

/**
 * The columns of a stream after the policy: kept, masked or hashed, in table order. A key column
 * cannot be excluded or masked (the key must stay unique); it can be hashed. `hashKey` is the
 * HMAC secret (use `${file:…}`); hashing without one is refused rather than done with a guessable key.
 */
export function applyColumnPolicy(
  columns: readonly MappedColumn[],
  keyNames: readonly string[],
  policy: ColumnPolicy | undefined,
  hashKey: string | undefined,
  table: string,
): MappedColumn[] {
  if (!policy) return [...columns];
  const names = new Set(columns.map((c) => c.column));
  for (const [rule, list] of Object.entries(policy)) {
    for (const name of list ?? []) {
      if (!names.has(name)) {
        throw new PreconditionError(ErrorCode.COLUMN_POLICY_UNKNOWN_COLUMN, `table ${table}: columns.${rule} names "${name}", which is not a column`, {
          fix: `use one of: ${[...names].join(", ")}`,
        });
      }
    }
  }
  const keys = new Set(keyNames);
  for (const name of [...(policy.exclude ?? []), ...(policy.mask ?? [])]) {
    if (keys.has(name)) {
      throw new PreconditionError(ErrorCode.COLUMN_POLICY_KEY, `table ${table}: key column "${name}" cannot be excluded or masked`, {
        fix: "hash it instead (columns.hash), which keeps keys unique",
      });
    }
  }
  if ((policy.hash?.length ?? 0) > 0 && !hashKey) {
    throw new PreconditionError(ErrorCode.COLUMN_POLICY_NO_HASH_KEY, `table ${table}: columns.hash needs a secret key`, {
      fix: "set hashKey on the connector, e.g. hashKey: ${file:/etc/liberator/secrets/pii-key}",
    });
  }
  const include = policy.include ? new Set([...policy.include, ...keyNames]) : undefined;
  const exclude = new Set(policy.exclude);
  const mask = new Set(policy.mask);
  const hash = new Set(policy.hash);
  return columns
    .filter((c) => (include ? include.has(c.column) : true) && !exclude.has(c.column))
    .map((c) => {
      if (mask.has(c.column)) return replaced(c, "masked", hashKey);
      if (hash.has(c.column)) return replaced(c, "hashed", hashKey);
      return c;
    });
}

export type PiiReplacement = "masked" | "hashed";

/**
 * The field that stands for a masked or hashed column: a string (nullable when the column is), no
 * default but null (a column default would publish a value in the schema), a doc saying what was
 * done. Stream-level PII handling (src/runtime/governance) uses it too, so both look the same.
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

function replaced(column: MappedColumn, how: PiiReplacement, hashKey: string | undefined): MappedColumn {
  const replace = replacedValue(how, hashKey);
  return { ...column, field: replacedField(column.field, column.column, how), fromDriver: (value) => replace(column.fromDriver(value)) };
}

/** One byte string per canonical value, so equal values (whatever the driver) hash equal. */
function hashInput(value: unknown): Buffer | string {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
