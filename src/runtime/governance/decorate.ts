/**
 * A stream's metadata applied to its schemas and values, the same way for every source: the
 * record carries owner, namespace, description and deprecation (`doc` and `liberator.*`
 * properties), each field its PII handling and financial flag; PII fields are masked or hashed
 * (pii.ts), or dropped; a source's column policy is this code applied as rows are read. All `liberator.*`
 * properties are part of the canonical form, so a change of metadata is a new schema id and the
 * registry serves the new text.
 */
import type { AvroSchema } from "../connector.js";
import { ConfigError, ErrorCode, PreconditionError } from "../errors.js";
import { COLUMN_ATTRIBUTE } from "../avro/canonical.js";
import { PII_ATTRIBUTE, replacedField, replacedValue, type PiiReplacement } from "./pii.js";
import type { AvroField } from "../sql-types/mapping.js";
import type { PiiHandling } from "./config.js";
import type { StreamMetadata } from "./metadata.js";
import { isRecordSchema, rowOf, type RecordSchema } from "./record-shape.js";

const FINANCIAL_ATTRIBUTE = "liberator.financial";
export const OWNER_ATTRIBUTE = "liberator.owner";
export const NAMESPACE_ATTRIBUTE = "liberator.namespace";
export const DESCRIPTION_ATTRIBUTE = "liberator.description";
export const DEPRECATED_ATTRIBUTE = "liberator.deprecated";

/** How a PII field ends up in the stream; `clear` is published as it is, flagged. */
export type PiiOutcome = "clear" | PiiReplacement | "dropped";

export interface PiiField {
  field: string;
  /** The source column, when the field name differs from it. */
  column: string;
  handling: PiiOutcome;
  /** Who decided: a stream declaration, or the source connector's own column policy. */
  by: "stream" | "connector";
}

/** A field whose value is replaced in every record of the stream. */
export interface Replacement {
  field: string;
  replace: (canonical: unknown) => unknown;
}

export interface DecoratedSchema {
  schema: AvroSchema;
  /** Fields of the row (the envelope's before/after, or the record itself) whose values are replaced. */
  replacements: Replacement[];
  /** A Debezium envelope: replacements apply to `before` and `after`. */
  envelope: boolean;
  pii: PiiField[];
  financial: string[];
  /** Fields named by the declarations that the schema does not have. */
  missing: string[];
}

interface DecorateOptions {
  topic: string;
  hashKey: string | undefined;
}

function undecorated(schema: AvroSchema, meta: StreamMetadata): DecoratedSchema {
  return { schema, replacements: [], envelope: false, pii: [], financial: [], missing: [...meta.pii.keys(), ...meta.financial] };
}

/** The value schema with the stream's metadata, and what to do to each value. */
export function decorateValueSchema(schema: AvroSchema, meta: StreamMetadata, options: DecorateOptions): DecoratedSchema {
  if (!isRecordSchema(schema)) return undecorated(schema, meta);
  const top = structuredClone(schema);
  setRecordMetadata(top, meta);
  const { row, envelope } = rowOf(top);
  const result = decorateFields(row, meta, options, "value");
  return { schema: top, envelope, ...result };
}

/** The key schema: PII key fields may be hashed (keys stay unique), never masked or dropped. */
export function decorateKeySchema(schema: AvroSchema, meta: StreamMetadata, options: DecorateOptions): DecoratedSchema {
  if (!isRecordSchema(schema)) return undecorated(schema, meta);
  const top = structuredClone(schema);
  return { schema: top, envelope: false, ...decorateFields(top, meta, options, "key") };
}

function setRecordMetadata(record: RecordSchema, meta: StreamMetadata): void {
  // a schema decorated before (an outbox type read back from the registry) keeps no stale metadata
  for (const key of Object.keys(record)) if (key.startsWith("liberator.")) delete record[key];
  if (meta.description !== undefined) {
    record.doc = meta.description;
    record[DESCRIPTION_ATTRIBUTE] = meta.description;
  }
  if (meta.owner !== undefined) record[OWNER_ATTRIBUTE] = meta.owner;
  if (meta.namespace !== undefined) record[NAMESPACE_ATTRIBUTE] = meta.namespace;
  if (meta.deprecated) {
    record[DEPRECATED_ATTRIBUTE] = true;
    if (meta.deprecated.replacement !== undefined) record[`${DEPRECATED_ATTRIBUTE}.replacement`] = meta.deprecated.replacement;
    if (meta.deprecated.date !== undefined) record[`${DEPRECATED_ATTRIBUTE}.date`] = meta.deprecated.date;
    if (meta.deprecated.reason !== undefined) record[`${DEPRECATED_ATTRIBUTE}.reason`] = meta.deprecated.reason;
  }
}

/**
 * A record's fields under the PII and financial declarations, and the replacement of each replaced
 * field's values; `record.fields` is set to the published fields. A source's per-table column
 * policy (`columns: {mask, hash}`, sql-types/column-policy.ts) is applied by this too.
 */
export function decorateFields(
  record: RecordSchema,
  meta: Pick<StreamMetadata, "pii" | "financial">,
  options: DecorateOptions,
  role: "key" | "value",
): Omit<DecoratedSchema, "schema" | "envelope"> {
  const fields: AvroField[] = [];
  const replacements: Replacement[] = [];
  const pii: PiiField[] = [];
  const financial: string[] = [];
  const named = new Set<string>();
  for (const original of record.fields) {
    const column = typeof original[COLUMN_ATTRIBUTE] === "string" ? original[COLUMN_ATTRIBUTE] : original.name;
    const names = [original.name, column];
    const piiName = names.find((n) => meta.pii.has(n));
    const financialName = names.find((n) => meta.financial.has(n));
    for (const n of [piiName, financialName]) if (n !== undefined) named.add(n);
    const handling = piiName === undefined ? undefined : meta.pii.get(piiName);
    let field = original;
    const already = original[PII_ATTRIBUTE];
    if (handling === "drop") {
      if (role === "key") throw keyRefused(options.topic, original.name, handling);
      pii.push({ field: original.name, column, handling: "dropped", by: "stream" });
      continue;
    }
    if (already === "masked" || already === "hashed") {
      // the source's column policy replaced it already; masking again is harmless, hashing a hash is not
      if (handling === "mask" && already === "masked") replacements.push({ field: original.name, replace: replacedValue("masked", undefined) });
      pii.push({ field: original.name, column, handling: already, by: handling === undefined ? "connector" : "stream" });
    } else if (handling === "mask" || handling === "hash") {
      const how: PiiReplacement = handling === "mask" ? "masked" : "hashed";
      if (role === "key" && how === "masked") throw keyRefused(options.topic, original.name, handling);
      if (how === "hashed" && !options.hashKey) {
        throw new ConfigError([`streams: stream "${options.topic}" hashes field "${original.name}", but streams.hashKey is not set`]);
      }
      field = replacedField(original, column, how);
      replacements.push({ field: original.name, replace: replacedValue(how, options.hashKey) });
      pii.push({ field: original.name, column, handling: how, by: "stream" });
    } else if (handling === "clear") {
      field = { ...original, doc: original.doc ?? `personal data (column ${column}), published in clear`, [PII_ATTRIBUTE]: "clear" };
      pii.push({ field: original.name, column, handling: "clear", by: "stream" });
    }
    if (financialName !== undefined) {
      field = { ...field, [FINANCIAL_ATTRIBUTE]: true };
      financial.push(original.name);
    }
    fields.push(field);
  }
  record.fields = fields;
  const missing = role === "key" ? [] : [...meta.pii.keys(), ...meta.financial].filter((name) => !named.has(name));
  return { replacements, pii, financial, missing };
}

function keyRefused(topic: string, field: string, handling: PiiHandling): PreconditionError {
  return new PreconditionError(ErrorCode.GOVERNANCE_PII_KEY, `stream "${topic}": key field "${field}" is declared pii: ${handling}, which would make keys collide or vanish`, {
    fix: `declare it pii: hash (equal values hash equal, so keys stay unique), or clear`,
  });
}

type Row = Record<string, unknown>;

function replaceRow(row: unknown, replacements: readonly Replacement[]): unknown {
  if (row === null || typeof row !== "object") return row;
  const out: Row = { ...(row as Row) };
  for (const r of replacements) if (r.field in out) out[r.field] = r.replace(out[r.field]);
  return out;
}

/** A value (or key) of the stream with its PII fields replaced; the same object when none is. */
export function replaceValue(value: unknown, decorated: DecoratedSchema): unknown {
  if (value === null || value === undefined || decorated.replacements.length === 0) return value;
  if (!decorated.envelope) return replaceRow(value, decorated.replacements);
  const envelope = value as Row;
  return { ...envelope, before: replaceRow(envelope.before, decorated.replacements), after: replaceRow(envelope.after, decorated.replacements) };
}
