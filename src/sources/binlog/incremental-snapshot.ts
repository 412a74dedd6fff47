/**
 * Snapshots of chosen tables while streaming goes on (`liberator snapshot <connector> --table
 * db.t`), to bootstrap a table added later or re-sync one; the queue and its progress are the
 * runtime's (runtime/db/incremental-snapshot.ts). Each chunk is read in a consistent read of its
 * own, whose exact binlog point (MariaDB: Binlog_snapshot_position, lock-free) says where it
 * belongs in the change history: the chunk's rows are produced as `op: "r"` once the stream has
 * produced every transaction before that point, and before any after it. Each key's history stays
 * in commit order without DBLog's watermark writes into the source database, and no row of the
 * chunk needs to be dropped for a concurrent change.
 */
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, Json, SourceContext } from "../../runtime/connector.js";
import { IncrementalSnapshot, type IncrementalChunk, type IncrementalProgress } from "../../runtime/db/incremental-snapshot.js";
import { mysqlConnect, TABLE_AFTER_TABLE } from "../../runtime/db/mysql.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { ChunkSize } from "../../runtime/db/row-bytes.js";
import { readChunk } from "./chunks.js";
import type { TableProgress } from "../../runtime/db/table-progress.js";
import { startTableProgress } from "./table-progress.js";
import type { BinlogConfig } from "./config.js";
import { splitTableName, type TableFilter } from "./filters.js";
import type { Coordinates } from "./position.js";
import { pushChange } from "../../runtime/sql-types/change-records.js";
import type { CapturedTable, SchemaHistory } from "./schema-history.js";
import { capturedTables, startConsistentRead } from "./server.js";
import { Throttle } from "./snapshot.js";

export class BinlogIncrementalReader {
  private conn: Connection | undefined;
  private readonly throttle: Throttle;
  /** The rows per chunk of the table being copied, and how far it is. */
  private sizing: { table: string; size: ChunkSize; progress: TableProgress } | undefined;
  readonly queue: IncrementalSnapshot<Coordinates>;

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly history: SchemaHistory,
    private readonly filter: TableFilter,
    private readonly mariadb: boolean,
    control: Connection,
    progress: IncrementalProgress | null,
  ) {
    this.throttle = new Throttle(config.snapshot, ctx);
    this.queue = new IncrementalSnapshot<Coordinates>(
      {
        captured: () => capturedTables(control, (db, t) => this.filter.captures(db, t)),
        read: (table, lastKey) => this.read(table, lastKey),
        notCaptured: ErrorCode.BINLOG_TABLE_NOT_CAPTURED,
        example: "database.table",
      },
      ctx,
      progress,
    );
  }

  /** Queues tables, refused on MySQL without the lock that places a chunk exactly. */
  request(tables: string[]): Promise<string[]> {
    if (!this.mariadb && this.config.snapshot.locking === "none") {
      throw new PreconditionError(ErrorCode.BINLOG_INCREMENTAL_NEEDS_LOCK, "on MySQL an incremental snapshot needs a brief global read lock per chunk to place it exactly", {
        fix: "set snapshot.locking: minimal (and grant RELOAD)",
      });
    }
    return this.queue.request(tables);
  }

  private async read(name: string, lastKey: Json[] | null): Promise<IncrementalChunk<Coordinates>> {
    const conn = (this.conn ??= await mysqlConnect(this.config.connection, this.ctx.connector, TABLE_AFTER_TABLE));
    await this.throttle.before(conn);
    const point = await startConsistentRead(conn, this.mariadb, this.config.snapshot.locking);
    try {
      const [database, table] = splitTableName(name);
      const captured = await this.history.learn(conn, name, database, table);
      const chunk = captured ? await readChunk(conn, captured, lastKey, (await this.chunkSize(conn, name, captured, lastKey)).rows()) : { rows: [], lastKey: null, last: true };
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
      return { records, at: point.at, lastKey: chunk.lastKey, last: chunk.last };
    } finally {
      await conn.query("COMMIT");
    }
  }

  private async chunkSize(conn: Connection, name: string, t: CapturedTable, lastKey: Json[] | null): Promise<ChunkSize> {
    if (this.sizing?.table !== name) {
      const progress = await startTableProgress(conn, this.ctx, t, "incremental", lastKey);
      this.sizing = { table: name, size: new ChunkSize(this.config.snapshot.chunkSize, this.ctx.limits.maxBatchBytes, progress.rowBytes), progress };
    }
    return this.sizing.size;
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.end().catch(() => undefined);
  }
}
