/**
 * The Debezium envelope of DESIGN.md §3 and the key record, built from a table's columns, so
 * every source describes its streams the same way and existing Debezium consumers read them.
 */
import type { AvroSchema, Op } from "../connector.js";
import { ErrorCode, PreconditionError } from "../errors.js";
import type { StreamDescription } from "../registry.js";
import { applyColumnPolicy, type ColumnPolicy } from "./column-policy.js";
import { avroName, mapColumn, type ColumnInfo, type MapOptions, type MappedColumn } from "./mapping.js";

const optional = (type: unknown) => ({ type: ["null", type], default: null });

/** Where a change came from; source-specific fields are null where they do not apply. */
export const SOURCE_SCHEMA = {
  type: "record",
  name: "Source",
  namespace: "io.liberator",
  fields: [
    { name: "connector", type: "string" },
    { name: "name", type: "string" },
    { name: "db", type: "string" },
    { name: "table", ...optional("string") },
    { name: "file", ...optional("string") },
    { name: "pos", ...optional("long") },
    { name: "gtid", ...optional("string") },
    { name: "row", ...optional("int") },
    { name: "snapshot", ...optional("string") },
    { name: "ts_ms", type: "long" },
    { name: "txId", ...optional("long") },
  ],
};

/** Debezium's transaction block: which source transaction a change belongs to, and its place in it. */
export const TRANSACTION_SCHEMA = {
  type: "record",
  name: "TransactionBlock",
  namespace: "io.liberator",
  fields: [
    { name: "id", type: "string" },
    { name: "total_order", type: "long" },
    { name: "data_collection_order", type: "long" },
  ],
};

export interface SourceInfo {
  /** The connector type: "binlog", "query", "outbox". */
  connector: string;
  /** The connector's name. */
  name: string;
  db: string;
  table?: string | null;
  file?: string | null;
  pos?: number | bigint | null;
  gtid?: string | null;
  row?: number | null;
  /** "true", "last", "false" or "incremental", as Debezium says it; null outside snapshots. */
  snapshot?: string | null;
  /** Event time at the source. */
  ts_ms: number | bigint;
  txId?: number | bigint | null;
}

export interface TransactionInfo {
  id: string;
  total_order: number | bigint;
  data_collection_order: number | bigint;
}

export interface Envelope<Row = Record<string, unknown>> {
  before: Row | null;
  after: Row | null;
  source: SourceInfo;
  op: Op;
  ts_ms: number | bigint | null;
  transaction: TransactionInfo | null;
}

/** A change as the envelope holds it; `ts_ms` (when Liberator saw it) defaults to now. */
export function envelope<Row>(op: Op, before: Row | null, after: Row | null, source: SourceInfo, transaction: TransactionInfo | null = null): Envelope<Row> {
  return { before, after, source, op, ts_ms: Date.now(), transaction };
}

export interface TableStreamOptions {
  topic: string;
  /** The table the stream reads, to name it in errors (callers that label errors themselves leave it out). */
  table?: string;
  /** Namespace of the Key, Value and Envelope records; the topic by default (Debezium's naming). */
  namespace?: string;
  /** Key columns for a table without a primary key; none (and no primary key) means a null key. */
  keyColumns?: readonly string[];
  mapping?: MapOptions;
  /** Columns left out, masked or hashed (column-policy.ts). */
  columns?: ColumnPolicy;
  /** The HMAC secret for hashed columns. */
  hashKey?: string;
}

/** One table's stream: its schemas and the converters from driver rows. */
export interface TableStream extends StreamDescription {
  columns: MappedColumn[];
  key: MappedColumn[];
  /** The row record (before/after), "<namespace>.Value". */
  rowSchema: AvroSchema;
  /** A driver row (column name → driver value) in the canonical form, by field name. */
  row(driverRow: Record<string, unknown>): Record<string, unknown>;
  /** The key record of a canonical row; null when the stream has no key. */
  keyOf(row: Record<string, unknown>): Record<string, unknown> | null;
}

export function tableStream(table: { columns: readonly ColumnInfo[]; primaryKey: readonly string[] }, options: TableStreamOptions): TableStream {
  const namespace = (options.namespace ?? options.topic).split(".").map(avroName).join(".");
  const keyNames = table.primaryKey.length > 0 ? table.primaryKey : (options.keyColumns ?? []);
  const mapped = table.columns.map((c) => mapColumn(c, options.mapping));
  const columns = applyColumnPolicy(mapped, keyNames, options.columns, options.hashKey, options.topic);
  const names = new Map<string, string>();
  for (const c of columns) {
    const other = names.get(c.field.name);
    if (other !== undefined) {
      throw new PreconditionError(ErrorCode.SCHEMA_FIELD_NAME_CLASH, `columns "${other}" and "${c.column}" both become Avro field "${c.field.name}"`, {
        fix: "exclude or rename one of them",
      });
    }
    names.set(c.field.name, c.column);
  }
  const key = keyNames.map((name) => {
    const column = columns.find((c) => c.column === name);
    if (!column) throw new PreconditionError(ErrorCode.SCHEMA_KEY_COLUMN_MISSING, `key column "${name}" is not a column of the table`);
    if (column.zeroDatesAsNull) {
      throw new PreconditionError(ErrorCode.SCHEMA_ZERO_DATE_KEY, `${options.table ? `${options.table}: ` : ""}key column "${name}" is a date that zeroDates or partialZeroDates: null would read as null, and a key cannot be null`, {
        fix: 'set zeroDates and partialZeroDates to "error" for this connector (a zero date in the key then stops it, naming the row), or key the table by columns without dates (keyColumns)',
      });
    }
    return column;
  });
  const rowSchema = { type: "record", name: "Value", namespace, fields: columns.map((c) => c.field) };
  const keySchema = key.length > 0 ? { type: "record", name: "Key", namespace, fields: key.map((c) => c.field) } : null;
  const valueSchema = {
    type: "record",
    name: "Envelope",
    namespace,
    fields: [
      { name: "before", ...optional(rowSchema) },
      { name: "after", ...optional(`${namespace}.Value`) },
      { name: "source", type: SOURCE_SCHEMA },
      { name: "op", type: "string" },
      { name: "ts_ms", ...optional("long") },
      { name: "transaction", ...optional(TRANSACTION_SCHEMA) },
    ],
  };
  const fieldNames = columns.map((c) => c.field.name);
  const keyFields = key.map((c) => c.field.name);
  return {
    topic: options.topic,
    keySchema: keySchema as AvroSchema | null,
    valueSchema: valueSchema as AvroSchema,
    rowSchema: rowSchema as AvroSchema,
    columns,
    key,
    row(driverRow) {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) out[fieldNames[i]!] = columns[i]!.fromDriver(driverRow[columns[i]!.column]);
      return out;
    },
    keyOf(row) {
      if (keyFields.length === 0) return null;
      const out: Record<string, unknown> = {};
      for (const f of keyFields) out[f] = row[f];
      return out;
    },
  };
}
