import type { ChangeRecord } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";
import { envelope, tableStream, type TableStream } from "../../runtime/sql-types/envelope.js";
import type { TableDescription } from "../../runtime/db/introspect.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import type { OutboxConfig } from "./config.js";
import { eventTime } from "./routing.js";
import type { OutboxRow, OutboxTable } from "./table.js";
import { decodeImageValue, type ChangeImage } from "./triggers.js";

interface Captured {
  stream: TableStream;
  /** The image's columns, as the database describes them (their types decide the decoding). */
  columns: ColumnInfo[];
  schema: string;
  table: string;
}

/**
 * Rows written by `liberator outbox triggers`, as the change events of DESIGN.md §3: the
 * envelope of the captured table's stream (c, u, d; a delete followed by a tombstone; an update
 * of the key as a delete, tombstone and create, as Debezium does).
 */
export class ChangeEvents {
  private readonly descriptions = new Map<string, TableDescription>();
  private readonly streams = new Map<string, Captured>();

  constructor(
    private readonly table: Pick<OutboxTable, "describe">,
    private readonly config: Pick<OutboxConfig, "mapping">,
    private readonly connector: string,
  ) {}

  async records(row: OutboxRow, topic: string): Promise<ChangeRecord[]> {
    const image = parseImage(row);
    const captured = await this.stream(row, topic, Object.keys(image.after ?? image.before ?? {}));
    const { stream, schema, table } = captured;
    const before = image.before && stream.row(driverRow(captured, image.before));
    const after = image.after && stream.row(driverRow(captured, image.after));
    const ts = eventTime(row);
    const source = { connector: "outbox", name: this.connector, db: schema, table, ts_ms: ts, pos: row.id };
    const headers = { id: String(row.id) };
    const change = (op: "c" | "u" | "d", b: typeof before, a: typeof after): ChangeRecord => ({
      topic,
      key: stream.keyOf((a ?? b)!),
      keySchema: stream.keySchema,
      value: envelope(op, b, a, source),
      valueSchema: stream.valueSchema,
      headers,
      timestamp: ts,
    });
    const tombstone = (of: ChangeRecord): ChangeRecord => ({ ...of, value: null, valueSchema: null });
    if (image.op === "c") return [change("c", null, after)];
    if (image.op === "d") {
      const deleted = change("d", before, null);
      return stream.keySchema ? [deleted, tombstone(deleted)] : [deleted];
    }
    const oldKey = stream.keyOf(before!);
    if (oldKey && !sameKey(oldKey, stream.keyOf(after!)!)) {
      const deleted = change("d", before, null);
      return [deleted, tombstone(deleted), change("c", null, after)];
    }
    return [change("u", before, after)];
  }

  /** The stream of the captured table with the image's columns, described once (again after a DDL). */
  private async stream(row: OutboxRow, topic: string, columns: string[]): Promise<Captured> {
    const key = `${topic}\u0000${row.aggregateType}\u0000${columns.join("\u0000")}`;
    const known = this.streams.get(key);
    if (known) return known;
    const dot = row.aggregateType.indexOf(".");
    const [schema, table] = [row.aggregateType.slice(0, dot), row.aggregateType.slice(dot + 1)];
    if (dot <= 0) throw new DataError(ErrorCode.OUTBOX_CHANGE_INVALID, `aggregate type "${row.aggregateType}" names no schema.table`);
    let description = this.descriptions.get(row.aggregateType);
    const fits = (d: TableDescription | undefined) => d !== undefined && columns.every((c) => d.columns.some((col) => col.name === c));
    if (!fits(description)) {
      description = await this.table.describe(schema, table);
      this.descriptions.set(row.aggregateType, description);
    }
    if (!fits(description)) {
      const missing = columns.filter((c) => !description!.columns.some((col) => col.name === c));
      throw new DataError(ErrorCode.OUTBOX_CHANGE_INVALID, `${row.aggregateType} has no column ${missing.join(", ")} (dropped or renamed since the triggers were made?)`, {
        fix: "re-create the triggers with `liberator outbox triggers … --apply`",
      });
    }
    const chosen = new Set(columns);
    const imageColumns = description!.columns.filter((c) => chosen.has(c.name));
    const captured: Captured = {
      stream: tableStream({ columns: imageColumns, primaryKey: description!.primaryKey }, { topic, table: row.aggregateType, mapping: this.config.mapping }),
      columns: imageColumns,
      schema,
      table,
    };
    this.streams.set(key, captured);
    return captured;
  }
}

function parseImage(row: OutboxRow): ChangeImage {
  let image: Partial<ChangeImage>;
  try {
    image = JSON.parse(row.payload) as Partial<ChangeImage>;
  } catch (err) {
    throw new DataError(ErrorCode.OUTBOX_CHANGE_INVALID, `the change payload is not JSON (${(err as Error).message})`);
  }
  const isImage = (v: unknown) => v === null || (typeof v === "object" && !Array.isArray(v));
  if (!image || !["c", "u", "d"].includes(image.op ?? "") || !isImage(image.before) || !isImage(image.after) || (image.before ?? image.after) === null) {
    throw new DataError(ErrorCode.OUTBOX_CHANGE_INVALID, `not a change written by the capture triggers: ${row.payload.slice(0, 80)}`);
  }
  return image as ChangeImage;
}

function driverRow(captured: Captured, image: Record<string, string | null>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of captured.columns) row[c.name] = decodeImageValue(c, image[c.name] ?? null);
  return row;
}

function sameKey(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys(a).every((k) => {
    const [x, y] = [a[k], b[k]];
    return x === y || (Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y));
  });
}
