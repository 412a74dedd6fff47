/**
 * How far the copy of one table is, for a snapshot's status and logs, whatever the database. The
 * row count starts as the server's guess (InnoDB's statistics, PostgreSQL's reltuples: often off
 * by half, or nothing before the first ANALYZE), and is refined as chunks complete: with an
 * integer first key column, the rows read per key value so far times the key range still ahead.
 * A run resumed after a restart starts where its key is in that range: the rows before it are put
 * at the server's guess times the share of the range behind the key (the bar does not fall back to
 * zero), and counted once; the rate is this run's own.
 */
import type { Json, SourceContext } from "../connector.js";
import type { TableEstimate } from "./introspect.js";

export class TableProgress {
  /** Rows read by this run (since the start, or since the restart that resumed it). */
  rows = 0;
  /** Rows before the key this run resumed after, as the key range puts them; 0 from the table's start. */
  private readonly prior: number = 0;
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
    if (r) {
      this.range = { from: resumed !== undefined && Number.isFinite(resumed) ? Math.min(Math.max(resumed, r.min - 1), r.max) : r.min - 1, max: r.max };
      this.prior = Math.round((estimate.rows * (this.range.from - (r.min - 1))) / (r.max - (r.min - 1)));
    }
    ctx.metrics.snapshotProgress(table, this.prior, Math.max(estimate.rows, this.prior), { kind, chunk: lastKey });
  }

  /** Rows of the table copied: before the key this run resumed after, and by this run. */
  get done(): number {
    return this.prior + this.rows;
  }

  get estimatedRows(): number {
    return Math.max(this.estimated, this.done);
  }

  /** A chunk read (a chunked snapshot's Chunk): its rows, the key of its last row, whether the table has no more. */
  read(chunk: { rows: readonly unknown[]; lastKey: Json[] | null; last: boolean }): void {
    this.rows += chunk.rows.length;
    const last = Number(chunk.lastKey?.[0]);
    if (chunk.last) this.estimated = this.done;
    else if (this.range && Number.isFinite(last) && last > this.range.from) {
      const perKey = this.rows / (last - this.range.from);
      this.estimated = Math.round(this.done + perKey * Math.max(0, this.range.max - last));
    }
    this.ctx.metrics.snapshotProgress(this.table, this.done, this.estimatedRows, { kind: this.kind, chunk: chunk.lastKey, finished: chunk.last });
  }

  /** The fields of a progress log line: rows, the estimate, this run's average rate and the ETA at it. */
  summary(finished: boolean): Record<string, Json> {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(this.rows / seconds) : 0;
    const eta = rate > 0 ? Math.round((this.estimatedRows - this.done) / rate) : null;
    return { table: this.table, rows: this.done, estimatedRows: this.estimatedRows, rowsPerSecond: rate, ...(finished ? {} : { etaSeconds: eta }) };
  }
}
