/**
 * Snapshots of chosen tables while streaming goes on (`liberator snapshot <connector> --table
 * schema.t`), DBLog's watermark way against the running stream; the queue and its progress are the
 * runtime's (runtime/db/incremental-snapshot.ts), shared with the binlog source.
 *
 * A chunk is read in a repeatable-read transaction of its own, whose snapshot S
 * (pg_current_snapshot()) is noted; after the read, a logical message is written through the
 * WAL: the high watermark H (pg_logical_emit_message returns its LSN). The chunk's rows are
 * produced as `op: "r"` once the stream has produced every transaction that committed before H,
 * and before any after it. A transaction the stream hands out before H either is visible in S
 * (its change is in the chunk's rows, which are then the later state) or is not (it committed
 * after S was taken): the chunk's rows of the keys such a transaction changed are stale and are
 * dropped, the stream's records of those keys being the newer state. Keys are watched from before
 * S is taken, so every transaction that S cannot see is among the watched ones. Nothing is written
 * into the source tables (no signal table), and no lock is taken.
 *
 * Only tables with a primary key: the chunks are key ranges, and a changed row is recognised by its key.
 */
import type pg from "pg";
import type { ChangeRecord, Json, SourceContext } from "../../runtime/connector.js";
import { RowRate } from "../../runtime/db/chunked-snapshot.js";
import { IncrementalSnapshot, type IncrementalChunk, type IncrementalProgress, type PendingChunk } from "../../runtime/db/incremental-snapshot.js";
import { describePgTable, estimatePgTable, pgIntegerRange } from "../../runtime/db/introspect.js";
import { PG_READ_OPTIONS, pgConnect } from "../../runtime/db/postgres.js";
import { ChunkSize } from "../../runtime/db/row-bytes.js";
import { TableProgress } from "../../runtime/db/table-progress.js";
import type { TableFilter } from "../../runtime/db/table-filter.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { pushChange } from "../../runtime/sql-types/change-records.js";
import type { PgcdcConfig } from "./config.js";
import { formatLsn, parseLsn } from "./pgoutput.js";
import { readChunk } from "./snapshot.js";
import { MESSAGE_PREFIX } from "./stream.js";
import { capturedTables, splitName, topicOf, type CapturedTable, type TableVersions } from "./tables.js";

/** Which transactions a snapshot sees, as 32-bit xids (pgoutput's): pg_current_snapshot()'s xmin, xmax and in-progress list. */
export interface XidSnapshot {
  xmin: number;
  xmax: number;
  running: number[];
}

/** The high watermark of a chunk: where its rows go in the stream, and what they saw. */
export interface Watermark {
  lsn: bigint;
  snapshot: XidSnapshot;
}

/** "xmin:xmax:xip,…" (xid8 values) → 32-bit xids. */
export function parseXidSnapshot(text: string): XidSnapshot {
  const [xmin, xmax, list] = text.split(":");
  const xid = (v: string) => Number(BigInt(v) & 0xffffffffn);
  return { xmin: xid(xmin!), xmax: xid(xmax!), running: list ? list.split(",").map(xid) : [] };
}

/** a before b, in 32-bit xid arithmetic (PostgreSQL's TransactionIdPrecedes for normal xids). */
const precedes = (a: number, b: number) => ((a - b) | 0) < 0;

/** Whether a transaction that committed (the stream handed it out) is visible in the snapshot. */
export function visibleIn(s: XidSnapshot, xid: number): boolean {
  if (precedes(xid, s.xmin)) return true;
  if (!precedes(xid, s.xmax)) return false;
  return !s.running.includes(xid);
}

const keyText = (key: unknown) => JSON.stringify(key, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));

/** What the watched table's committed transactions changed, by xid: keys, or everything (TRUNCATE). */
interface Window {
  topic: string;
  changed: Map<number, Set<string> | "all">;
}

export class PgcdcIncremental {
  private conn: pg.Client | undefined;
  private window: Window | undefined;
  private readonly rate: RowRate;
  /** The rows per chunk of the table being copied, and how far it is. */
  private sizing: { table: string; size: ChunkSize; progress: TableProgress } | undefined;
  private readonly queue: IncrementalSnapshot<Watermark>;

  constructor(
    private readonly config: PgcdcConfig,
    private readonly ctx: SourceContext,
    private readonly versions: TableVersions,
    filter: TableFilter,
    /** The source's own connection: the catalog, and the watermarks. */
    private readonly db: pg.Client,
    progress: IncrementalProgress | null,
  ) {
    this.rate = new RowRate(config.snapshot.maxRowsPerSecond, ctx.signal);
    this.queue = new IncrementalSnapshot<Watermark>(
      {
        captured: () => capturedTables(db, filter),
        read: (table, lastKey) => this.read(table, lastKey),
        notCaptured: ErrorCode.PGCDC_TABLE_NOT_CAPTURED,
        example: "schema.table",
      },
      ctx,
      progress,
    );
  }

  get committed(): IncrementalProgress | null {
    return this.queue.committed;
  }

  status() {
    return this.queue.status();
  }

  /** Queues tables; a table without a primary key is refused. */
  async request(tables: string[]): Promise<string[]> {
    for (const name of tables) {
      const [schema, table] = splitName(name);
      const d = await describePgTable(this.db, schema, table);
      if (d.columns.length > 0 && d.primaryKey.length === 0) {
        throw new PreconditionError(ErrorCode.PGCDC_INCREMENTAL_NEEDS_KEY, `${name} has no primary key: an incremental snapshot reads key ranges and recognises changed rows by their key`, {
          fix: `give ${name} a primary key, or copy it again with a new connector (snapshot.mode: initial)`,
        });
      }
    }
    return this.queue.request(tables);
  }

  /** The chunk to produce once the stream reaches its watermark; undefined when there is no work. */
  next(): Promise<PendingChunk<Watermark> | undefined> {
    return this.queue.next();
  }

  /**
   * What a committed transaction of the stream changed (before the watermark of the pending chunk):
   * its records, and the topics of the tables it truncated.
   */
  observe(xid: number, records: readonly ChangeRecord[], truncated: ReadonlySet<string>): void {
    const w = this.window;
    if (!w) return;
    if (truncated.has(w.topic)) {
      w.changed.set(xid, "all");
      return;
    }
    let keys = w.changed.get(xid);
    for (const r of records) {
      if (r.topic !== w.topic || r.key === null) continue;
      if (keys === "all") return;
      if (!keys) w.changed.set(xid, (keys = new Set()));
      keys.add(keyText(r.key));
    }
  }

  /**
   * The stream reached the pending chunk's watermark: its records without the rows that changed
   * after its snapshot. Watching starts over from here for the next chunk.
   */
  produce(chunk: PendingChunk<Watermark>): ChangeRecord[] {
    const stale = new Set<string>();
    let all = false;
    for (const [xid, keys] of this.window?.changed ?? []) {
      if (visibleIn(chunk.at.snapshot, xid)) continue;
      if (keys === "all") all = true;
      else for (const k of keys) stale.add(k);
    }
    this.queue.produced();
    // the next chunk's window; none once the table is done (the next table's read opens its own)
    if (this.queue.current === chunk.table) this.window?.changed.clear();
    else this.window = undefined;
    if (all) return [];
    return stale.size === 0 ? chunk.records : chunk.records.filter((r) => !stale.has(keyText(r.key)));
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.end().catch(() => undefined);
  }

  private async read(name: string, lastKey: Json[] | null): Promise<IncrementalChunk<Watermark>> {
    const [schema, table] = splitName(name);
    const topic = topicOf(this.config, schema, table);
    // watching starts before the snapshot is taken: a transaction it cannot see commits after this
    if (this.window?.topic !== topic) this.window = { topic, changed: new Map() };
    if (!this.conn) {
      this.conn = await pgConnect(this.config.connection, this.ctx.connector, PG_READ_OPTIONS);
      this.conn.on("error", () => undefined);
    }
    const conn = this.conn;
    await this.rate.before();
    await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    let snapshot: XidSnapshot;
    let rows: Record<string, unknown>[] = [];
    let captured: CapturedTable | undefined;
    let chunk: { lastKey: Json[] | null; last: boolean } = { lastKey: null, last: true };
    try {
      // the transaction's snapshot is taken by its first statement: this one
      snapshot = parseXidSnapshot((await conn.query<{ s: string }>("SELECT pg_current_snapshot()::text AS s")).rows[0]!.s);
      captured = await this.versions.describe(conn, name);
      if (captured) {
        await this.versions.check(captured);
        const sizing = await this.chunkSize(conn, captured, lastKey);
        const read = await readChunk(conn, captured, lastKey, sizing.size.rows());
        sizing.size.read(read.rows);
        sizing.progress.read(read);
        rows = read.rows;
        chunk = read;
      }
    } finally {
      await conn.query("COMMIT");
    }
    this.rate.read(rows.length);
    // the high watermark, after the snapshot: every transaction S sees committed before it
    const { rows: emitted } = await this.db.query<{ lsn: string }>("SELECT pg_logical_emit_message(false, $1, 'incremental')::text AS lsn", [MESSAGE_PREFIX]);
    const at: Watermark = { lsn: parseLsn(emitted[0]!.lsn), snapshot };
    const records: ChangeRecord[] = [];
    if (captured) {
      const source = { connector: "pgcdc", name: this.ctx.connector, db: schema, table, file: formatLsn(at.lsn), pos: null, gtid: null, row: null, snapshot: "incremental", ts_ms: Date.now(), txId: null };
      const now = Date.now();
      for (const row of rows) pushChange(records, captured, "r", null, row, now, () => ({ source, transaction: null }));
    } else {
      this.ctx.log.warn({ table: name }, "table to copy is gone: skipped");
    }
    return { records, at, lastKey: chunk.lastKey, last: chunk.last };
  }

  private async chunkSize(conn: pg.Client, t: CapturedTable, lastKey: Json[] | null) {
    if (this.sizing?.table !== t.name) {
      const estimate = await estimatePgTable(conn, t.schema, t.table);
      const first = t.primaryKey[0];
      const keyRange = first === undefined ? undefined : await pgIntegerRange(conn, t.schema, t.table, first);
      const progress = new TableProgress(this.ctx, t.name, "incremental", { ...estimate, keyRange }, lastKey);
      this.sizing = { table: t.name, size: new ChunkSize(this.config.snapshot.chunkSize, this.ctx.limits.maxBatchBytes, progress.rowBytes), progress };
    }
    return this.sizing;
  }
}
