/**
 * The snapshot phase: a consistent copy of the captured tables, as `op: "r"` records, in the
 * primary-key chunks of the runtime's chunked snapshot (runtime/db/chunked-snapshot.ts, shared
 * with pgcdc), read inside ONE consistent read whose binlog point streaming starts from. Each
 * chunk is a batch (one Kafka transaction) with the progress in its position, so a restart goes on
 * with the next chunk, from a new consistent read (the coordinator first streams what changed in
 * between, so no change is lost and each key's history stays in commit order).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { mysqlConnect, TABLE_AFTER_TABLE } from "../../runtime/db/mysql.js";
import { ChunkedSnapshot, RowRate, type ChunkReader } from "../../runtime/db/chunked-snapshot.js";
import { readChunk } from "./chunks.js";
import type { BinlogConfig } from "./config.js";
import { splitTableName } from "./filters.js";
import type { SnapshotProgress } from "./position.js";
import type { CapturedTable, SchemaHistory } from "./schema-history.js";
import { startConsistentRead, type ConsistentRead } from "./server.js";
import { tableEstimate } from "./table-progress.js";

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
  private readonly throttle: Throttle;
  private readonly chunks: ChunkedSnapshot<CapturedTable>;

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly history: SchemaHistory,
    private readonly mariadb: boolean,
    progress: SnapshotProgress,
  ) {
    this.throttle = new Throttle(config.snapshot, ctx);
    this.chunks = new ChunkedSnapshot(this.reader, ctx, config.snapshot.chunkSize, progress);
  }

  /** Opens the consistent read; its point is where the copied rows stand. */
  async open(): Promise<ConsistentRead> {
    this.conn = await mysqlConnect(this.config.connection, this.ctx.connector, TABLE_AFTER_TABLE);
    this.point = await startConsistentRead(this.conn, this.mariadb, this.config.snapshot.locking);
    return this.point;
  }

  /** The next chunk, or null when every table is copied. */
  next(): Promise<{ records: ChangeRecord[]; progress: SnapshotProgress } | null> {
    return this.chunks.next();
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.query("COMMIT").catch(() => undefined);
    await conn?.end().catch(() => undefined);
  }

  private readonly reader: ChunkReader<CapturedTable> = {
    start: async (name) => {
      const conn = this.conn!;
      const [database, table] = splitTableName(name);
      const captured = await this.history.learn(conn, name, database, table);
      if (!captured) return undefined;
      await this.history.check(captured);
      return { captured, keyless: captured.layout.primaryKey.length === 0, estimate: await tableEstimate(conn, captured) };
    },
    read: (captured, lastKey, rows) => readChunk(this.conn!, captured, lastKey, rows),
    source: (t) => {
      const at = this.point!;
      return { connector: "binlog", name: this.ctx.connector, db: t.database, table: t.table, file: at.at.file, pos: at.at.pos, gtid: at.gtid, row: null, snapshot: "true", ts_ms: Date.now(), txId: null };
    },
    pace: () => this.throttle.before(this.conn!),
    afterChunk: (rows) => this.throttle.read(rows),
  };
}
