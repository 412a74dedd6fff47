/**
 * How far the copy of one table is, for the snapshot's status and logs. The row count starts as
 * InnoDB's guess (information_schema, often off by half), and is refined as chunks complete: with
 * an integer primary key, the rows read per key value so far times the key range still ahead.
 */
import type { Connection } from "mysql2/promise";
import type { Json, SourceContext } from "../../runtime/connector.js";
import { quoteMysql } from "../../runtime/db/identifiers.js";
import { estimateMysqlTable } from "../../runtime/db/introspect.js";
import type { Chunk } from "./chunks.js";
import type { CapturedTable } from "./schema-history.js";

export class TableProgress {
  rows = 0;
  readonly startedAt = Date.now();

  private constructor(
    private readonly ctx: SourceContext,
    readonly table: CapturedTable,
    private readonly kind: "initial" | "incremental",
    private estimated: number,
    readonly rowBytes: number,
    /** The first key column's range, when it is an integer; `from` is where this run starts reading. */
    private readonly range: { from: number; max: number } | undefined,
  ) {}

  static async start(conn: Connection, ctx: SourceContext, table: CapturedTable, kind: "initial" | "incremental", lastKey: Json[] | null): Promise<TableProgress> {
    const estimated = await estimateMysqlTable(conn, table.database, table.table);
    const range = await keyRange(conn, table);
    const resumed = lastKey?.[0] === undefined ? undefined : Number(lastKey[0]);
    const from = range && (resumed !== undefined && Number.isFinite(resumed) ? resumed : range.min - 1);
    const progress = new TableProgress(ctx, table, kind, estimated.rows, estimated.rowBytes, range && from !== undefined ? { from, max: range.max } : undefined);
    ctx.metrics.snapshotProgress(table.name, 0, estimated.rows, { kind, chunk: lastKey });
    return progress;
  }

  get estimatedRows(): number {
    return Math.max(this.estimated, this.rows);
  }

  read(chunk: Chunk): void {
    this.rows += chunk.rows.length;
    const last = Number(chunk.lastKey?.[0]);
    if (chunk.last) this.estimated = this.rows;
    else if (this.range && Number.isFinite(last) && last > this.range.from) {
      const perKey = this.rows / (last - this.range.from);
      this.estimated = Math.round(this.rows + perKey * Math.max(0, this.range.max - last));
    }
    this.ctx.metrics.snapshotProgress(this.table.name, this.rows, this.estimatedRows, { kind: this.kind, chunk: chunk.lastKey, finished: chunk.last });
  }
}

/** MIN and MAX of the first key column (two index dives) when it holds integers; undefined otherwise. */
async function keyRange(conn: Connection, t: CapturedTable): Promise<{ min: number; max: number } | undefined> {
  const first = t.layout.primaryKey[0];
  const type = t.layout.columns.find((c) => c.name === first)?.sqlType ?? "";
  if (first === undefined || !/^(tiny|small|medium|big)?int\b/.test(type)) return undefined;
  const column = quoteMysql(first);
  const [result] = await conn.query({ sql: `SELECT MIN(${column}) AS lo, MAX(${column}) AS hi FROM ${quoteMysql(t.database)}.${quoteMysql(t.table)}`, supportBigNumbers: true, bigNumberStrings: true });
  const row = (result as { lo: unknown; hi: unknown }[])[0];
  // an empty table has no range
  if (row?.lo === null || row?.lo === undefined || row.hi === null) return undefined;
  return { min: Number(row.lo), max: Number(row.hi) };
}
