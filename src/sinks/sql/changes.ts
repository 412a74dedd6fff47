/**
 * What a Kafka record asks of a table: records in the Debezium envelope are unwrapped (`after`
 * for c/r/u, a delete by key for d, every row for t), a tombstone deletes its key, and any other
 * record is a row as it is.
 */
import type { AvroSchema, SinkRecord } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";
import { COLUMN_ATTRIBUTE } from "../../runtime/avro/canonical.js";
import type { AvroField } from "../../runtime/sql-types/mapping.js";

/** The fields of a row record, with the SQL column each stands for. */
export interface RowSchema {
  /** The record schema object itself: one identity per schema version (the deserializer caches them). */
  readonly id: object;
  readonly fields: readonly AvroField[];
  readonly columns: readonly string[];
}

/**
 * What a record asks. `row` is the row to write (upsert) or the row before the delete (delete;
 * absent for a tombstone), `schema` its fields. `origin` is the envelope's source block, where the
 * record has one.
 */
export interface Change {
  op: "upsert" | "delete" | "truncate";
  row: Record<string, unknown> | undefined;
  schema: RowSchema | undefined;
  origin: Origin | undefined;
}

export interface Origin {
  db?: unknown;
  table?: unknown;
}

interface ValueSchemaInfo {
  envelope: boolean;
  row: RowSchema;
}

type RecordSchemaJson = { type: "record"; name?: string; fields: AvroField[] };

const isRecordSchema = (s: unknown): s is RecordSchemaJson =>
  typeof s === "object" && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === "record" && Array.isArray((s as { fields?: unknown }).fields);

const ENVELOPE_FIELDS = ["before", "after", "op", "source"];

const isEnvelope = (record: RecordSchemaJson) => ENVELOPE_FIELDS.every((n) => record.fields.some((f) => f.name === n));

const infos = new WeakMap<object, ValueSchemaInfo>();
const keyInfos = new WeakMap<object, RowSchema>();

function rowSchemaOf(record: RecordSchemaJson): RowSchema {
  return { id: record, fields: record.fields, columns: record.fields.map(columnOf) };
}

function columnOf(field: AvroField): string {
  return field[COLUMN_ATTRIBUTE] ?? field.name;
}

function valueInfo(schema: AvroSchema, topic: string): ValueSchemaInfo {
  let info = infos.get(schema as object);
  if (info) return info;
  if (!isRecordSchema(schema)) {
    throw new DataError(ErrorCode.SINK_RECORD_NOT_A_ROW, `records of topic ${topic} hold ${JSON.stringify((schema as { type?: unknown }).type ?? schema)}, not a row (an Avro record)`, {
      fix: "point the sql sink at topics of rows or change events",
    });
  }
  if (isEnvelope(schema)) {
    // tableStream defines the row record in `before` and names it in `after`; Debezium may do either
    const branches = schema.fields.filter((f) => f.name === "before" || f.name === "after").flatMap((f) => (Array.isArray(f.type) ? f.type : [f.type]));
    const row = branches.find(isRecordSchema);
    if (!row) throw new DataError(ErrorCode.SINK_RECORD_NOT_A_ROW, `the change events of topic ${topic} carry no row record in before/after`);
    info = { envelope: true, row: rowSchemaOf(row) };
  } else {
    info = { envelope: false, row: rowSchemaOf(schema) };
  }
  infos.set(schema, info);
  return info;
}

/** The fields of the envelope's source block the sink reads: they name the target table. */
const ORIGIN_FIELDS = new Set(["db", "table"]);

/**
 * What the sink reads of a change event: `before`, `after`, `op`, and of the source block only
 * `db` and `table`. The rest of the source block (a dozen fields, most of them unions), the
 * transaction block and `ts_ms` are skipped while decoding, never built: the source block alone
 * was half of the decoding and of its garbage. Any other value is read whole.
 */
export function changeView(writer: AvroSchema): AvroSchema | undefined {
  const record: unknown = writer;
  if (!isRecordSchema(record) || !isEnvelope(record)) return undefined;
  const fields = record.fields
    .filter((f) => ENVELOPE_FIELDS.includes(f.name))
    .map((f) => (f.name === "source" && isRecordSchema(f.type) ? { ...f, type: { ...f.type, fields: f.type.fields.filter((s) => ORIGIN_FIELDS.has(s.name)) } } : f));
  return { ...record, fields } as AvroSchema;
}

/** The row schema of a topic's value schema: the envelope's row record, or the record itself. */
export function rowSchemaOfValue(schema: AvroSchema, topic: string): RowSchema {
  return valueInfo(schema, topic).row;
}

/** The key record's fields as a row schema, when the key is a record. */
export function keySchemaOf(record: SinkRecord): RowSchema | undefined {
  const schema = record.keySchema;
  if (!isRecordSchema(schema)) return undefined;
  let info = keyInfos.get(schema);
  if (!info) keyInfos.set(schema, (info = rowSchemaOf(schema)));
  return info;
}

/** What the record asks, and where it came from (the envelope's source.db and source.table). */
export function changeOf(record: SinkRecord): Change {
  if (record.value === null || record.value === undefined) return { op: "delete", row: undefined, schema: undefined, origin: undefined };
  const info = valueInfo(record.valueSchema!, record.topic);
  const value = record.value as Record<string, unknown>;
  if (!info.envelope) return { op: "upsert", row: value, schema: info.row, origin: undefined };
  const origin = (value.source ?? undefined);
  const op = value.op;
  switch (op) {
    case "c":
    case "r":
    case "u":
      if (!value.after) throw new DataError(ErrorCode.SINK_RECORD_INVALID, `a change event with op "${op}" has no "after" row`);
      return { op: "upsert", row: value.after as Record<string, unknown>, schema: info.row, origin };
    case "d":
      return { op: "delete", row: (value.before ?? undefined) as Record<string, unknown> | undefined, schema: info.row, origin };
    case "t":
      return { op: "truncate", row: undefined, schema: undefined, origin };
    default:
      throw new DataError(ErrorCode.SINK_RECORD_INVALID, `a change event has op ${JSON.stringify(op)}; expected c, r, u, d or t`);
  }
}
