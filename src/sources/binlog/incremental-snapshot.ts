/**
 * Snapshots of chosen tables while streaming goes on (`liberator snapshot <connector> --table
 * db.t`), to bootstrap a table added later or re-sync one. Each chunk is read in a consistent
 * read of its own, whose exact binlog point (MariaDB: Binlog_snapshot_position, lock-free) says
 * where it belongs in the change history: the chunk's rows are produced as `op: "r"` once the
 * stream has produced every transaction before that point, and before any after it. Each key's
 * history stays in commit order without DBLog's watermark writes into the source database, and
 * no row of the chunk needs to be dropped for a concurrent change.
 */
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { mysqlConnect, TABLE_AFTER_TABLE } from "../../runtime/db/mysql.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { ChunkSize } from "../../runtime/db/row-bytes.js";
import { readChunk } from "./chunks.js";
import type { TableProgress } from "../../runtime/db/table-progress.js";
import { startTableProgress } from "./table-progress.js";
import type { BinlogConfig } from "./config.js";
import { splitTableName, type TableFilter } from "./filters.js";
import type { Coordinates, IncrementalProgress } from "./position.js";
import { pushChange } from "../../runtime/sql-types/change-records.js";
import type { CapturedTable, SchemaHistory } from "./schema-history.js";
import { capturedTables, startConsistentRead } from "./server.js";
import { Throttle } from "./snapshot.js";

export interface PendingChunk {
  records: ChangeRecord[];
  /** The binlog point the chunk's rows are consistent with. */
  at: Coordinates;
  /** The progress once the chunk is produced. */
  progress: IncrementalProgress | null;
}

export class IncrementalSnapshot {
  private conn: Connection | undefined;
  private pending: PendingChunk | undefined;
  private readonly throttle: Throttle;
  /** The rows per chunk of the table being copied, and how far it is. */
  private sizing: { table: string; size: ChunkSize; progress: TableProgress } | undefined;

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly history: SchemaHistory,
    private readonly filter: TableFilter,
    private readonly mariadb: boolean,
    /** What is committed: the tables left and the current one's last key. */
    private progress: IncrementalProgress | null,
  ) {
    this.throttle = new Throttle(config.snapshot, ctx);
  }

  /** The progress to store with a batch that does not produce the pending chunk. */
  get committed(): IncrementalProgress | null {
    return this.progress;
  }

  /** Queues tables; the ones already queued stay where they are. */
  async request(control: Connection, tables: string[]): Promise<string[]> {
    if (!this.mariadb && this.config.snapshot.locking === "none") {
      throw new PreconditionError(ErrorCode.BINLOG_INCREMENTAL_NEEDS_LOCK, "on MySQL an incremental snapshot needs a brief global read lock per chunk to place it exactly", {
        fix: "set snapshot.locking: minimal (and grant RELOAD)",
      });
    }
    const existing = new Set(await capturedTables(control, (db, t) => this.filter.captures(db, t)));
    const unknown = tables.filter((t) => !existing.has(t));
    if (unknown.length > 0) {
      throw new PreconditionError(ErrorCode.BINLOG_TABLE_NOT_CAPTURED, `${unknown.join(", ")}: no such table, or not captured by this connector (include/exclude)`, {
        fix: `name captured tables as database.table, e.g. ${[...existing].slice(0, 3).join(", ") || "shop.orders"}`,
      });
    }
    const queue = this.pending?.progress?.tables ?? this.progress?.tables ?? [];
    const added = tables.filter((t) => !queue.includes(t));
    if (added.length === 0) return queue;
    // the pending chunk's successor state learns of the new tables too
    if (this.pending) this.pending.progress = { tables: [...(this.pending.progress?.tables ?? []), ...added], lastKey: this.pending.progress?.lastKey ?? null };
    this.progress = { tables: [...(this.progress?.tables ?? []), ...added], lastKey: this.progress?.lastKey ?? null };
    this.ctx.log.info({ tables: added }, "incremental snapshot requested");
    return this.progress.tables;
  }

  /** The chunk to produce at its point, read now if none is waiting; undefined when there is no work. */
  async next(): Promise<PendingChunk | undefined> {
    if (this.pending || !this.progress || this.progress.tables.length === 0) return this.pending;
    const name = this.progress.tables[0]!;
    const conn = (this.conn ??= await mysqlConnect(this.config.connection, this.ctx.connector, TABLE_AFTER_TABLE));
    await this.throttle.before(conn);
    const point = await startConsistentRead(conn, this.mariadb, this.config.snapshot.locking);
    try {
      const [database, table] = splitTableName(name);
      const captured = await this.history.learn(conn, name, database, table);
      const chunk = captured ? await readChunk(conn, captured, this.progress.lastKey, (await this.chunkSize(conn, name, captured)).rows()) : { rows: [], lastKey: null, last: true };
      this.sizing?.size.read(chunk.rows);
      if (captured) this.sizing?.progress.read(chunk);
      const records: ChangeRecord[] = [];
      if (captured) {
        await this.history.check(captured);
        const source = { connector: "binlog", name: this.ctx.connector, db: database, table, file: point.at.file, pos: point.at.pos, gtid: point.gtid, row: null, snapshot: "incremental", ts_ms: Date.now(), txId: null };
        const now = Date.now();
        for (const row of chunk.rows) pushChange(records, captured, "r", null, row, now, () => ({ source, transaction: null }));
      }
      this.throttle.read(chunk.rows.length);
      const rest = this.progress.tables.slice(1);
      const progress = chunk.last ? (rest.length > 0 ? { tables: rest, lastKey: null } : null) : { tables: this.progress.tables, lastKey: chunk.lastKey };
      if (chunk.last) this.ctx.log.info({ table: name }, "incremental snapshot of table done");
      this.pending = { records, at: point.at, progress };
      return this.pending;
    } finally {
      await conn.query("COMMIT");
    }
  }

  private async chunkSize(conn: Connection, name: string, t: CapturedTable): Promise<ChunkSize> {
    if (this.sizing?.table !== name) {
      const progress = await startTableProgress(conn, this.ctx, t, "incremental", this.progress?.lastKey ?? null);
      this.sizing = { table: name, size: new ChunkSize(this.config.snapshot.chunkSize, this.ctx.limits.maxBatchBytes, progress.rowBytes), progress };
    }
    return this.sizing.size;
  }

  /** The pending chunk was produced (it is in the batch being committed). */
  produced(): void {
    if (!this.pending) return;
    this.progress = this.pending.progress;
    this.pending = undefined;
  }

  status() {
    return this.progress ? { tables: this.progress.tables, lastKey: this.progress.lastKey } : null;
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.pending = undefined;
    await conn?.end().catch(() => undefined);
  }
}
