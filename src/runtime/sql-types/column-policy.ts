/**
 * Per-table column rules every source applies the same way (DESIGN.md §4, "masked or hashed per
 * table (PII) and excluded by config"): a column can be left out, masked, or replaced by a keyed
 * hash. `mask` and `hash` are the shorthand of the stream's `pii: {column: mask | hash}` with the
 * connector's `hashKey`: the stream declarations' own code (governance/decorate.ts) makes the
 * fields and replaces the values, here as the rows are read. The schema says what was done (field
 * doc and `liberator.pii`), so consumers and `liberator streams show` can tell a hash from the
 * clear value.
 */
import { z } from "zod";
import { stringList } from "../config/fields.js";
import { ErrorCode, PreconditionError } from "../errors.js";
import { decorateFields } from "../governance/decorate.js";
import type { PiiHandling } from "../governance/config.js";
import type { RecordSchema } from "../governance/record-shape.js";
import type { MappedColumn } from "./mapping.js";

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

/** A table's `columns:` setting, described once for every source that has one. */
export const columnPolicyField = () =>
  columnPolicySchema
    .optional()
    .describe("`include`, `exclude`, `mask`, `hash` lists of columns (the key cannot be excluded or masked); the shorthand of the streams' `pii` (docs/governance.md)");

/** The connector's HMAC secret for `columns.hash`. */
export const hashKeyField = () => z.string().min(16, "must be at least 16 characters").optional().describe("HMAC secret for hashed columns (16+ characters; use `${file:…}`)");

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
  const kept = columns.filter((c) => (include ? include.has(c.column) : true) && !exclude.has(c.column));
  const pii = new Map<string, PiiHandling>([...(policy.mask ?? []).map((c) => [c, "mask"] as const), ...(policy.hash ?? []).map((c) => [c, "hash"] as const)]);
  if (pii.size === 0) return kept;
  const record: RecordSchema = { type: "record", name: "Value", fields: kept.map((c) => c.field) };
  const { replacements } = decorateFields(record, { pii, financial: new Set() }, { topic: table, hashKey }, "value");
  const replace = new Map(replacements.map((r) => [r.field, r.replace]));
  return kept.map((c, i) => {
    const replaceValue = replace.get(c.field.name);
    return replaceValue ? { ...c, field: record.fields[i]!, fromDriver: (value: unknown) => replaceValue(c.fromDriver(value)) } : c;
  });
}
