/**
 * How far the copy of one table is, for a snapshot's status and logs, whatever the database. The
 * row count starts as the server's guess (InnoDB's statistics, PostgreSQL's reltuples: often off
 * by half, or nothing before the first ANALYZE), and is refined as chunks complete: with an
 * integer first key column, the rows read per key value so far times the key range still ahead.
 */
import type { Json, SourceContext } from "../connector.js";
import type { TableEstimate } from "./introspect.js";

export class TableProgress {
  /** Rows read by this run (since the start, or since the restart that resumed it). */
  rows = 0;
  readonly startedAt = Date.now();
  readonly rowBytes: number;
  private estimated: number;
  /** Where this run starts reading in the first key column's range, and the range's end. */
  private readonly range: { from: number; max: number } | undefined;

  constructor(
    private readonly ctx: SourceContext,
    readonly table: string,
    private readonly kind: "initial" | "incremental",
    /** With the MIN and MAX of the first key column, when it holds integers and the table has rows. */
    estimate: TableEstimate & { keyRange?: { min: number; max: number } | undefined },
    /** The key a restart goes on after; null from the table's start. */
    lastKey: Json[] | null,
  ) {
    this.estimated = estimate.rows;
    this.rowBytes = estimate.rowBytes;
    const resumed = lastKey?.[0] === undefined ? undefined : Number(lastKey[0]);
    const r = estimate.keyRange;
    if (r) this.range = { from: resumed !== undefined && Number.isFinite(resumed) ? resumed : r.min - 1, max: r.max };
    ctx.metrics.snapshotProgress(table, 0, estimate.rows, { kind, chunk: lastKey });
  }

  get estimatedRows(): number {
    return Math.max(this.estimated, this.rows);
  }

  /** A chunk read (a chunked snapshot's Chunk): its rows, the key of its last row, whether the table has no more. */
  read(chunk: { rows: readonly unknown[]; lastKey: Json[] | null; last: boolean }): void {
    this.rows += chunk.rows.length;
    const last = Number(chunk.lastKey?.[0]);
    if (chunk.last) this.estimated = this.rows;
    else if (this.range && Number.isFinite(last) && last > this.range.from) {
      const perKey = this.rows / (last - this.range.from);
      this.estimated = Math.round(this.rows + perKey * Math.max(0, this.range.max - last));
    }
    this.ctx.metrics.snapshotProgress(this.table, this.rows, this.estimatedRows, { kind: this.kind, chunk: chunk.lastKey, finished: chunk.last });
  }

  /** The fields of a progress log line: rows, the estimate, this run's average rate and the ETA at it. */
  summary(finished: boolean): Record<string, Json> {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(this.rows / seconds) : 0;
    const eta = rate > 0 ? Math.round((this.estimatedRows - this.rows) / rate) : null;
    return { table: this.table, rows: this.rows, estimatedRows: this.estimatedRows, rowsPerSecond: rate, ...(finished ? {} : { etaSeconds: eta }) };
  }
}
