/**
 * What changed between two versions of a subject, field by field, as consumers think of a stream:
 * the columns of the row (an envelope's `before`/`after` record), or the fields of the record.
 */
import type { AvroSchema } from "../connector.js";
import { canonicalForm } from "../avro/canonical.js";
import type { AvroField } from "../sql-types/mapping.js";
import { isRecordSchema, rowOf, type RecordSchema } from "./record-shape.js";

export interface FieldChange {
  field: string;
  /** The field's type in canonical form (logical type, precision, defaults kept). */
  type: string;
}

export interface ChangedField {
  field: string;
  from: string;
  to: string;
}

export interface SchemaDiff {
  added: FieldChange[];
  removed: FieldChange[];
  changed: ChangedField[];
}

/** The record whose fields consumers see as the stream's columns, with the namespace its fields' names resolve in. */
function columnsOf(schema: unknown): { fields: AvroField[]; namespace: string | undefined } {
  if (!isRecordSchema(schema)) return { fields: [], namespace: undefined };
  const { row } = rowOf(schema);
  const namespaceOf = (r: RecordSchema) => (r.name.includes(".") ? r.name.slice(0, r.name.lastIndexOf(".")) : r.namespace);
  return { fields: row.fields, namespace: namespaceOf(row) ?? namespaceOf(schema) };
}

/** A field's type, default and own properties, in the canonical spelling. */
function signature(field: AvroField, namespace: string | undefined): { type: string; whole: string } {
  const name = namespace ? `${namespace}.Field` : "Field";
  const whole = canonicalForm({ type: "record", name, fields: [field] } as unknown as AvroSchema);
  return { type: canonicalForm(field.type as AvroSchema), whole };
}

export function diffSchemas(previous: unknown, next: unknown): SchemaDiff {
  const before = columnsOf(previous);
  const after = columnsOf(next);
  const old = new Map(before.fields.map((f) => [f.name, signature(f, before.namespace)]));
  const now = new Map(after.fields.map((f) => [f.name, signature(f, after.namespace)]));
  const diff: SchemaDiff = { added: [], removed: [], changed: [] };
  for (const [field, sig] of now) {
    const was = old.get(field);
    if (!was) diff.added.push({ field, type: sig.type });
    else if (was.whole !== sig.whole) diff.changed.push({ field, from: was.type === sig.type ? was.whole : was.type, to: was.type === sig.type ? sig.whole : sig.type });
  }
  for (const [field, sig] of old) if (!now.has(field)) diff.removed.push({ field, type: sig.type });
  return diff;
}

/** "added note; removed fax; changed amount" for a log line. */
export function describeDiff(diff: SchemaDiff): string {
  const parts = [
    diff.added.length > 0 ? `added ${diff.added.map((f) => f.field).join(", ")}` : "",
    diff.removed.length > 0 ? `removed ${diff.removed.map((f) => f.field).join(", ")}` : "",
    diff.changed.length > 0 ? `changed ${diff.changed.map((f) => f.field).join(", ")}` : "",
  ].filter(Boolean);
  return parts.length > 0 ? parts.join("; ") : "no field changed (metadata or record properties only)";
}
