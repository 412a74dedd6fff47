/**
 * The snapshot phase: a consistent copy of the captured tables, as `op: "r"` records, read in
 * primary-key chunks inside ONE consistent read whose binlog point streaming starts from. Each
 * chunk is a batch (one Kafka transaction) with the progress in its position, so a restart goes on
 * with the next chunk, from a new consistent read (the coordinator first streams what changed in
 * between, so no change is lost and each key's history stays in commit order).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { mysqlConnect, TABLE_AFTER_TABLE } from "../../runtime/db/mysql.js";
import type { SourceInfo } from "../../runtime/sql-types/envelope.js";
import { RowRate } from "../../runtime/db/chunked-snapshot.js";
import { ChunkSize } from "../../runtime/db/row-bytes.js";
import { readChunk } from "./chunks.js";
import type { BinlogConfig } from "./config.js";
import { splitTableName } from "./filters.js";
import type { SnapshotProgress } from "./position.js";
import { pushChange } from "../../runtime/sql-types/change-records.js";
import type { CapturedTable, SchemaHistory } from "./schema-history.js";
import { startConsistentRead, type ConsistentRead } from "./server.js";
import type { TableProgress } from "../../runtime/db/table-progress.js";
import { startTableProgress } from "./table-progress.js";

const PROGRESS_LOG_MS = 10_000;

interface TableRun {
  captured: CapturedTable;
  size: ChunkSize;
  progress: TableProgress;
}

/** The pace a snapshot keeps so the legacy database goes on serving its users. */
export class Throttle {
  private readonly rate: RowRate;
  private busyLogged = false;

  constructor(
    private readonly config: BinlogConfig["snapshot"],
    private readonly ctx: SourceContext,
  ) {
    this.rate = new RowRate(config.maxRowsPerSecond, ctx.signal);
  }

  async before(conn: Connection): Promise<void> {
    const { pauseAboveThreadsRunning } = this.config;
    await this.rate.before();
    while (pauseAboveThreadsRunning > 0 && !this.ctx.signal.aborted) {
      const [result] = await conn.query("SHOW GLOBAL STATUS LIKE 'Threads_running'");
      const running = Number((result as { Value: unknown }[])[0]?.Value ?? 0);
      if (running <= pauseAboveThreadsRunning) break;
      if (!this.busyLogged) this.ctx.log.info({ threadsRunning: running, pauseAboveThreadsRunning }, "database busy: snapshot waits");
      this.busyLogged = true;
      await sleep(1000, undefined, { signal: this.ctx.signal }).catch(() => undefined);
    }
    this.busyLogged = false;
  }

  read(rows: number): void {
    this.rate.read(rows);
  }
}

export class InitialSnapshot {
  private conn: Connection | undefined;
  private point: ConsistentRead | undefined;
  private run: TableRun | undefined;
  private lastLog = 0;
  private readonly throttle: Throttle;

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly history: SchemaHistory,
    private readonly mariadb: boolean,
    private progress: SnapshotProgress,
  ) {
    this.throttle = new Throttle(config.snapshot, ctx);
  }

  /** Opens the consistent read; its point is where the copied rows stand. */
  async open(): Promise<ConsistentRead> {
    this.conn = await mysqlConnect(this.config.connection, this.ctx.connector, TABLE_AFTER_TABLE);
    this.point = await startConsistentRead(this.conn, this.mariadb, this.config.snapshot.locking);
    return this.point;
  }

  get tables(): readonly string[] {
    return this.progress.tables;
  }

  /** The next chunk, or null when every table is copied. */
  async next(): Promise<{ records: ChangeRecord[]; progress: SnapshotProgress } | null> {
    const conn = this.conn!;
    for (;;) {
      const name = this.progress.tables[this.progress.done];
      if (name === undefined) return null;
      const run = this.run ?? (this.run = await this.startTable(conn, name));
      if (!run) {
        this.ctx.log.warn({ table: name }, "table to copy is gone: skipped");
        this.progress = { ...this.progress, done: this.progress.done + 1, lastKey: null };
        continue;
      }
      await this.throttle.before(conn);
      const chunk = await readChunk(conn, run.captured, this.progress.lastKey, run.size.rows());
      run.size.read(chunk.rows);
      this.throttle.read(chunk.rows.length);
      const records: ChangeRecord[] = [];
      const source = this.source(run.captured);
      const meta = () => ({ source, transaction: null });
      const now = Date.now();
      for (const row of chunk.rows) pushChange(records, run.captured, "r", null, row, now, meta);
      run.progress.read(chunk);
      const rows = this.progress.rows + chunk.rows.length;
      this.progress = chunk.last
        ? { ...this.progress, done: this.progress.done + 1, lastKey: null, rows }
        : { ...this.progress, lastKey: chunk.lastKey, rows };
      this.log(run, chunk.last);
      if (chunk.last) this.run = undefined;
      if (records.length > 0 || chunk.last) return { records, progress: this.progress };
    }
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.query("COMMIT").catch(() => undefined);
    await conn?.end().catch(() => undefined);
  }

  private async startTable(conn: Connection, name: string): Promise<TableRun | undefined> {
    const [database, table] = splitTableName(name);
    const captured = await this.history.learn(conn, name, database, table);
    if (!captured) return undefined;
    await this.history.check(captured);
    if (captured.layout.primaryKey.length === 0 && this.progress.lastKey) {
      this.ctx.log.warn({ table: name }, "table without a primary key: copied again from its start after the restart");
      this.progress = { ...this.progress, lastKey: null };
    }
    const progress = await startTableProgress(conn, this.ctx, captured, "initial", this.progress.lastKey);
    this.ctx.log.info({ table: name, estimatedRows: progress.estimatedRows, topic: captured.stream.topic }, "snapshot of table started");
    const size = new ChunkSize(this.config.snapshot.chunkSize, this.ctx.limits.maxBatchBytes, progress.rowBytes);
    return { captured, size, progress };
  }

  private source(t: CapturedTable): SourceInfo {
    const at = this.point!;
    return { connector: "binlog", name: this.ctx.connector, db: t.database, table: t.table, file: at.at.file, pos: at.at.pos, gtid: at.gtid, row: null, snapshot: "true", ts_ms: Date.now(), txId: null };
  }

  private log(run: TableRun, finished: boolean): void {
    const now = Date.now();
    if (!finished && now - this.lastLog < PROGRESS_LOG_MS) return;
    this.lastLog = now;
    this.ctx.log.info(
      { ...run.progress.summary(finished), tablesDone: this.progress.done, tables: this.progress.tables.length },
      finished ? "snapshot of table done" : "snapshot progress",
    );
  }
}
