/**
 * A batch of records as statements per table. Several changes to one key fold into the last one
 * (the final state is all the target needs), so each key is written once per batch; a delete
 * followed by a new row keeps its delete, so an insert never meets the row it replaces. With
 * one change per key left, deletes and then inserts per table give the same end state as
 * replaying the records in order.
 */
import type { SinkRecord } from "../../runtime/connector.js";
import { DataError, ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { changeOf, keySchemaOf, type Change, type Origin } from "./changes.js";
import type { SqlSinkConfig } from "./config.js";
import { resolveTable } from "./table-name.js";
import type { KeyReader, Shape, TableState, Tables } from "./tables.js";
import type { SqlTarget } from "./target.js";

type Row = Record<string, unknown>;

type Entry = { kind: "upsert"; shape: Shape; row: Row; deleteFirst: boolean } | { kind: "delete"; key: KeyReader; row: Row };

/** What one batch does to one table. */
export interface TableWrites {
  state: TableState;
  truncate: boolean;
  /** By folded key, in the order of each key's last change. */
  keyed: Map<unknown, Entry>;
  /** Tables without a key (insert mode): every row, in order. */
  rows: { shape: Shape; row: Row }[];
  records: number;
}

export class Planner {
  /** The envelope's source of each topic, for its tombstones (which carry none). */
  private readonly origins = new Map<string, Origin>();

  constructor(
    private readonly tables: Tables,
    private readonly config: SqlSinkConfig,
  ) {}

  async plan(records: readonly SinkRecord[]): Promise<TableWrites[]> {
    const writes = new Map<TableState, TableWrites>();
    // batches are mostly one table: the last route is checked before any lookup
    let last: { topic: string; db: unknown; table: unknown; writes: TableWrites } | undefined;
    for (const record of records) {
      const change = changeOf(record);
      if ((change.op === "delete" && !this.config.deletes) || (change.op === "truncate" && !this.config.truncates)) continue;
      if (change.origin) this.origins.set(record.topic, change.origin);
      const from = change.origin ?? this.origins.get(record.topic);
      let w: TableWrites;
      if (last && last.topic === record.topic && last.db === from?.db && last.table === from?.table) w = last.writes;
      else {
        const state = await this.tables.state(resolveTable(this.config.table, record.topic, from, this.config.dialect));
        let found = writes.get(state);
        if (!found) writes.set(state, (found = { state, truncate: false, keyed: new Map(), rows: [], records: 0 }));
        w = found;
        last = { topic: record.topic, db: from?.db, table: from?.table, writes: w };
      }
      w.records++;
      if (change.op === "truncate") {
        w.truncate = true;
        w.keyed.clear();
        w.rows = [];
      } else if (change.op === "upsert") {
        // awaited only for a schema version the table has not seen: a promise per record was garbage
        const shape = w.state.shapes.get(change.schema!.id) ?? (await this.tables.shape(w.state, change.schema!, keySchemaOf(record)));
        upsert(w, shape, change.row!);
      } else {
        this.delete(w, record, change);
      }
    }
    return [...writes.values()];
  }

  /** Deletes by the key in the row before the change, else in the record key. */
  private delete(w: TableWrites, record: SinkRecord, change: Change): void {
    const { state } = w;
    const recordKey = keySchemaOf(record);
    const key = this.tables.decideKey(state, recordKey);
    if (key.length === 0) {
      throw new PreconditionError(ErrorCode.SINK_KEY_MISSING, `a delete reached table ${state.label}, which has no key columns to delete by`, {
        fix: "give the records a key, set keyColumns, or set deletes: false",
      });
    }
    if (!state.table) return; // nothing to delete from a table that does not exist yet
    let reader = change.row && change.schema ? this.tables.keyReader(state, change.schema) : null;
    let row = change.row;
    if (!reader && recordKey && record.key) {
      reader = this.tables.keyReader(state, recordKey);
      row = record.key as Row;
    }
    if (!reader || !row) {
      // a tombstone whose key lacks the configured key columns: the delete before it did the work
      if (!change.row) return;
      throw new DataError(ErrorCode.SINK_RECORD_KEY_MISSING, `a delete for table ${state.label} carries none of its key columns (${key.join(", ")}) in its row or its key`);
    }
    const id = reader.id(row);
    w.keyed.delete(id);
    w.keyed.set(id, { kind: "delete", key: reader, row });
  }
}

function upsert(w: TableWrites, shape: Shape, row: Row): void {
  if (!shape.key) {
    w.rows.push({ shape, row });
    return;
  }
  const id = shape.key.id(row);
  const before = w.keyed.get(id);
  if (before !== undefined) w.keyed.delete(id);
  w.keyed.set(id, { kind: "upsert", shape, row, deleteFirst: before !== undefined && (before.kind === "delete" || before.deleteFirst) });
}

/** Writes one table's share of a batch: truncate, deletes, then rows per schema version. */
export async function applyWrites(target: SqlTarget, w: TableWrites, mode: SqlSinkConfig["mode"]): Promise<void> {
  const table = w.state.table;
  if (!table) return;
  const keyColumns = w.state.keyColumns ?? [];
  if (w.truncate) await target.deleteAll(table);
  const deletes: unknown[] = [];
  const rows = new Map<Shape, unknown[]>();
  const paramsOf = (shape: Shape) => {
    let params = rows.get(shape);
    if (!params) rows.set(shape, (params = []));
    return params;
  };
  for (const e of w.keyed.values()) {
    if (e.kind === "delete") e.key.write(e.row, deletes);
    else {
      if (e.deleteFirst) e.shape.key!.write(e.row, deletes);
      e.shape.write(e.row, paramsOf(e.shape));
    }
  }
  for (const r of w.rows) r.shape.write(r.row, paramsOf(r.shape));
  if (deletes.length > 0) await target.delete({ table, keyColumns, params: deletes });
  for (const [shape, params] of rows) {
    const set = { table: shape.table, columns: shape.columns, keyColumns, params };
    if (mode === "update") await target.update(set);
    else await target.insert(set, mode === "upsert" ? "update" : "error");
  }
}
