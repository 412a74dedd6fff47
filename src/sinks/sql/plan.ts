/**
 * A batch of records as statements per table. Several changes to one key fold into the last one
 * (the final state is all the target needs), so each key is written once per batch; a delete
 * followed by a new row keeps its delete, so an insert never meets the row it replaces. With
 * one change per key left, deletes and then inserts per table give the same end state as
 * replaying the records in order.
 */
import type { SinkRecord } from "../../runtime/connector.js";
import { DataError, PreconditionError } from "../../runtime/errors.js";
import { changeOf, keySchemaOf, type Origin, type RowSchema } from "./changes.js";
import type { SqlSinkConfig } from "./config.js";
import { resolveTable } from "./table-name.js";
import type { Shape, TableState, Tables } from "./tables.js";
import type { SqlTarget } from "./target.js";

type Entry =
  | { kind: "upsert"; shape: Shape; row: Record<string, unknown>; key: unknown[]; deleteFirst: boolean }
  | { kind: "delete"; key: unknown[]; params: unknown[] };

/** What one batch does to one table. */
export interface TableWrites {
  state: TableState;
  truncate: boolean;
  /** By folded key, in the order of each key's last change. */
  keyed: Map<string, Entry>;
  /** Tables without a key (insert mode): every row, in order. */
  rows: { shape: Shape; row: Record<string, unknown> }[];
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
    const routes = new Map<string, TableState>();
    for (const record of records) {
      const { change, origin } = changeOf(record);
      if ((change.op === "delete" && !this.config.deletes) || (change.op === "truncate" && !this.config.truncates)) continue;
      if (origin) this.origins.set(record.topic, origin);
      const from = origin ?? this.origins.get(record.topic);
      const route = `${record.topic}\u0000${from?.db ?? ""}\u0000${from?.table ?? ""}`;
      let state = routes.get(route);
      if (!state) routes.set(route, (state = await this.tables.state(resolveTable(this.config.table, record.topic, from))));
      let w = writes.get(state);
      if (!w) writes.set(state, (w = { state, truncate: false, keyed: new Map(), rows: [], records: 0 }));
      w.records++;

      switch (change.op) {
        case "truncate":
          w.truncate = true;
          w.keyed.clear();
          w.rows = [];
          break;
        case "upsert": {
          const shape = state.shapes.get(change.schema.id) ?? (await this.tables.shape(state, change.schema, keySchemaOf(record)));
          if (!shape.key) {
            w.rows.push({ shape, row: change.row });
            break;
          }
          const key = shape.key.canonical(change.row);
          const id = foldKey(key);
          const before = w.keyed.get(id);
          w.keyed.delete(id);
          w.keyed.set(id, { kind: "upsert", shape, row: change.row, key, deleteFirst: before !== undefined && (before.kind === "delete" || before.deleteFirst) });
          break;
        }
        case "delete": {
          const key = this.deleteKey(state, record, change.image);
          if (!key) break;
          const id = foldKey(key.values);
          w.keyed.delete(id);
          w.keyed.set(id, { kind: "delete", key: key.values, params: key.params });
          break;
        }
      }
    }
    return [...writes.values()];
  }

  /** The key of a row to delete, from the row before the change, else from the record key. */
  private deleteKey(state: TableState, record: SinkRecord, image: { row: Record<string, unknown>; schema: RowSchema } | undefined) {
    const recordKey = keySchemaOf(record);
    const key = this.tables.decideKey(state, recordKey);
    if (key.length === 0) {
      throw new PreconditionError("SINK_KEY_MISSING", `a delete reached table ${state.label}, which has no key columns to delete by`, {
        fix: "give the records a key, set keyColumns, or set deletes: false",
      });
    }
    if (!state.table) return undefined; // nothing to delete from a table that does not exist yet
    const fromImage = image && this.tables.keyReader(state, image.schema);
    if (fromImage) {
      const values = fromImage.canonical(image.row);
      return { values, params: fromImage.params(values) };
    }
    const fromKey = recordKey && this.tables.keyReader(state, recordKey);
    if (fromKey && record.key) {
      const values = fromKey.canonical(record.key as Record<string, unknown>);
      return { values, params: fromKey.params(values) };
    }
    // a tombstone whose key lacks the configured key columns: the delete before it did the work
    if (!image) return undefined;
    throw new DataError("SINK_KEY_MISSING", `a delete for table ${state.label} carries none of its key columns (${key.join(", ")}) in its row or its key`);
  }
}

/** Writes one table's share of a batch: truncate, deletes, then rows per schema version. */
export async function applyWrites(target: SqlTarget, w: TableWrites, mode: SqlSinkConfig["mode"]): Promise<void> {
  const table = w.state.table;
  if (!table) return;
  const keyColumns = w.state.keyColumns ?? [];
  if (w.truncate) await target.deleteAll(table);
  const deletes: unknown[][] = [];
  const rows = new Map<Shape, unknown[][]>();
  const add = (shape: Shape, params: unknown[]) => {
    const list = rows.get(shape);
    if (list) list.push(params);
    else rows.set(shape, [params]);
  };
  for (const e of w.keyed.values()) {
    if (e.kind === "delete") deletes.push(e.params);
    else {
      if (e.deleteFirst) deletes.push(e.shape.key!.params(e.key));
      add(e.shape, e.shape.params(e.row));
    }
  }
  for (const r of w.rows) add(r.shape, r.shape.params(r.row));
  if (deletes.length > 0) await target.delete({ table, keyColumns, keys: deletes });
  for (const [shape, params] of rows) {
    const set = { table: shape.table, columns: shape.columns, keyColumns, rows: params };
    if (mode === "update") await target.update(set);
    else await target.insert(set, mode === "upsert" ? "update" : "error");
  }
}

/** One string per key value combination (values are canonical, one type per column). */
export function foldKey(values: readonly unknown[]): string {
  if (values.length === 1) return keyPart(values[0]);
  return values.map(keyPart).join("\u0000");
}

function keyPart(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString("hex");
  return typeof v === "string" ? v : String(v);
}
