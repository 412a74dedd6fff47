/**
 * Where a stream's columns are in its value schema: the row record of a Debezium envelope (the
 * record inside `before`), or the record itself for a plain event (an outbox payload).
 */
import type { AvroField } from "../sql-types/mapping.js";

export type RecordSchema = { type: "record"; name: string; namespace?: string; fields: AvroField[]; doc?: string; [property: string]: unknown };

export function isRecordSchema(schema: unknown): schema is RecordSchema {
  return (
    typeof schema === "object" &&
    schema !== null &&
    !Array.isArray(schema) &&
    (schema as { type?: unknown }).type === "record" &&
    Array.isArray((schema as { fields?: unknown }).fields)
  );
}

/** The row record (the very object inside `before`, so it can be edited in place), or the record itself. */
export function rowOf(top: RecordSchema): { row: RecordSchema; envelope: boolean } {
  const names = new Set(top.fields.map((f) => f.name));
  if (names.has("before") && names.has("after") && names.has("op")) {
    const before = top.fields.find((f) => f.name === "before")!.type;
    const row = (Array.isArray(before) ? before : [before]).find(isRecordSchema);
    if (row) return { row, envelope: true };
  }
  return { row: top, envelope: false };
}
